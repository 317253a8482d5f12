// One import for the e2e suites: `import { startDockerd, runDocker, ... } from './harness/index.js'`.
export { type ApiResponse, pingUnix, requestUnix, type UnixRequestOptions } from './api.js';
export {
  type CliRunOptions,
  DOCKER_CLI_20,
  DOCKER_CLI_28,
  DOCKWARD_ENTRY,
  type DockerRunOptions,
  REPO_ROOT,
  runDocker,
  runDockward,
} from './docker-cli.js';
export {
  type DockerdOptions,
  dockerdErrorLine,
  freeLoopbackPort,
  mountsUnder,
  processesOf,
  reapStaleDockerds,
  PrivateDockerd,
  type StartOutcome,
  startDockerd,
  tryStartDockerd,
} from './dockerd.js';
export { BUSYBOX_APPLETS, buildBusyboxImage, TEST_IMAGE } from './image.js';
export {
  BUSYBOX_PATH,
  type DockerTools,
  dockerCliPath,
  e2eMustRun,
  e2eSkipReason,
  ensureDockerTools,
  findProgram,
  isStaticElf,
} from './requirements.js';
export { killGroup, type RunOptions, type RunResult, runCommand } from './run.js';
