/**
 * A strict decoder for a chunked request body (RFC 9112 §7.1), fed the bytes as they arrive.
 * Refused: chunk extensions (`;...`), a size that is not 1–8 hex digits (an oversize size line
 * is how parsers disagree about where a chunk ends), whitespace, bare CR/LF, anything but CRLF
 * after the data, and trailer fields (no Docker client sends them; nothing is left for dockerd
 * to read differently).
 */

const MAX_SIZE_LINE = 8;

type State = 'size' | 'size-lf' | 'data' | 'data-cr' | 'data-lf' | 'last-cr' | 'last-lf' | 'done';

export class ChunkedDecoder {
  private state: State = 'size';
  private sizeText = '';
  private remaining = 0;

  /** True once the last chunk and its final CRLF have been read. */
  get done(): boolean {
    return this.state === 'done';
  }

  /**
   * Decodes `input`: calls `onData` with each piece of body, returns how many input bytes were
   * used (fewer than given once done: the rest belongs to the next request), or throws an Error
   * whose message says what was refused.
   */
  push(input: Buffer, onData: (piece: Buffer) => void): number {
    let i = 0;
    while (i < input.length && this.state !== 'done') {
      switch (this.state) {
        case 'size': {
          const b = input[i]!;
          if (b === 0x0d) {
            if (this.sizeText.length === 0) throw new Error('empty chunk size');
            this.remaining = Number.parseInt(this.sizeText, 16);
            this.state = 'size-lf';
          } else if (isHex(b)) {
            if (this.sizeText.length >= MAX_SIZE_LINE) throw new Error('chunk size too large');
            this.sizeText += String.fromCharCode(b);
          } else if (b === 0x3b) {
            throw new Error('chunk extensions are not accepted');
          } else {
            throw new Error('malformed chunk size');
          }
          i++;
          break;
        }
        case 'size-lf':
          if (input[i] !== 0x0a) throw new Error('bare CR after a chunk size');
          i++;
          this.sizeText = '';
          this.state = this.remaining === 0 ? 'last-cr' : 'data';
          break;
        case 'data': {
          const n = Math.min(this.remaining, input.length - i);
          onData(input.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = 'data-cr';
          break;
        }
        case 'data-cr':
          if (input[i] !== 0x0d) throw new Error('chunk data longer than its size');
          i++;
          this.state = 'data-lf';
          break;
        case 'data-lf':
          if (input[i] !== 0x0a) throw new Error('bare CR after chunk data');
          i++;
          this.state = 'size';
          break;
        case 'last-cr':
          if (input[i] !== 0x0d) throw new Error('trailer fields are not accepted');
          i++;
          this.state = 'last-lf';
          break;
        case 'last-lf':
          if (input[i] !== 0x0a) throw new Error('bare CR after the last chunk');
          i++;
          this.state = 'done';
          break;
        default:
          break;
      }
    }
    return i;
  }
}

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}
