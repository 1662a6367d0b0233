import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/** The size of a file, 0 when it does not exist (yet). */
export async function fileSize(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.size,
    () => 0,
  );
}

/**
 * Follows a log file Slurm appends to: each `read()` returns the whole lines written since the
 * last one (a torn last line waits for its end) and whether the file grew at all.
 */
export class LogTail {
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  constructor(
    private readonly file: string,
    private offset: number,
  ) {}

  async read(): Promise<{ lines: string[]; grew: boolean }> {
    const size = await fileSize(this.file);
    if (size < this.offset) this.offset = 0; // truncated or replaced: start over
    if (size === this.offset) return { lines: [], grew: false };
    const handle = await open(this.file, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(size - this.offset, 4 * 1024 * 1024));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
      this.offset += bytesRead;
      const text = this.partial + this.decoder.write(buffer.subarray(0, bytesRead));
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      return { lines, grew: bytesRead > 0 };
    } finally {
      await handle.close();
    }
  }
}
