/**
 * Image references as dockerd resolves them (distribution/reference `ParseNormalizedNamed`):
 * `busybox` is `docker.io/library/busybox`, `team/app:1` is `docker.io/team/app`, and a first
 * component with a `.` or `:`, `localhost`, or an upper-case letter names a registry.
 */

export type ImageRef =
  | { kind: 'named'; repository: string; tag?: string; digest?: string }
  /** An image ID, or a bare hex name dockerd may resolve as an ID prefix. */
  | { kind: 'id'; id: string }
  | { kind: 'invalid'; reason: string };

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:.]+\](?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX = /^[a-f0-9]+$/;

/** Splits `[registry/]path` into the registry and the path as dockerd normalizes them. */
function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  let domain = 'docker.io';
  let path = name;
  if (slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first)) {
    domain = first;
    path = name.slice(slash + 1);
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  return { domain, path };
}

/** Parses what a client passes as an image (container create `Image`, pull `fromImage`). */
export function parseImageRef(ref: string): ImageRef {
  if (/^sha256:[a-f0-9]{64}$/.test(ref)) return { kind: 'id', id: ref };
  // A bare hex name that is not a tag is looked up as an image ID prefix by dockerd.
  if (HEX.test(ref)) return { kind: 'id', id: ref };
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return { kind: 'invalid', reason: `"${ref}" has a malformed digest` };
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return { kind: 'invalid', reason: `"${ref}" has a malformed tag` };
  }
  if (rest === '') return { kind: 'invalid', reason: `"${ref}" names no repository` };
  const { domain, path } = splitDomain(rest);
  if (!DOMAIN.test(domain)) return { kind: 'invalid', reason: `"${ref}" has a malformed registry` };
  if (!path.split('/').every((c) => COMPONENT.test(c))) {
    return {
      kind: 'invalid',
      reason: `"${ref}" is not a valid repository name (lower case letters, digits, . _ -)`,
    };
  }
  return {
    kind: 'named',
    repository: `${domain}/${path}`,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/**
 * Normalizes a repository pattern the way a reference is normalized, so `busybox` means
 * `docker.io/library/busybox` and `team/*` means `docker.io/team/*`. A first component holding
 * a wildcard is taken as the registry part (`**` is any image).
 */
export function normalizeImagePattern(pattern: string): string {
  const slash = pattern.indexOf('/');
  const first = slash === -1 ? pattern : pattern.slice(0, slash);
  if (/[*?]/.test(first) && (slash !== -1 || /^\*\*$/.test(first))) return pattern;
  const { domain, path } = splitDomain(pattern);
  return `${domain}/${path}`;
}

/** A reason when a pattern cannot name repositories, else undefined. */
export function imagePatternProblem(pattern: string): string | undefined {
  if (pattern === '') return 'an image pattern is empty';
  if (pattern === '*') return 'the pattern "*" matches no repository: write "**" for any image';
  const last = pattern.slice(pattern.lastIndexOf('/') + 1);
  if (last.includes(':') || last.includes('@')) {
    return `image patterns name repositories, without a tag or digest: "${pattern}"`;
  }
  return undefined;
}
