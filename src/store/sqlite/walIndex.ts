/**
 * The WAL's progress, read from SQLite's WAL-index: the `-shm` file beside the database, which every connection maps
 * into memory. Its header holds how many frames the WAL has (`mxFrame`, byte 16) and its checkpoint record how many
 * of them a checkpoint has copied into the database file (`nBackfill`, byte 96), in the machine's byte order
 * (SQLite's "WAL-index format", version 3007000, unchanged since WAL mode appeared). Read with one `pread` of the file
 * (the same pages of the OS's cache that SQLite maps), so it is current whichever connection or thread wrote it.
 *
 * Used by the checkpointer (./checkpointer.ts) to hold a bulk creation until the WAL can start over. Only ever a hint:
 * a file it cannot read, or of another version, reads as null and nothing waits.
 */
import fs from 'node:fs';
import os from 'node:os';

const VERSION = 3007000;
const MX_FRAME = 16;
const N_BACKFILL = 96;
const BYTES = N_BACKFILL + 4;

export interface WalProgress {
  /** Frames in the WAL since it last started over. */
  frames: number;
  /** How many of them have been copied into the database file. */
  copied: number;
}

export class WalIndex {
  private fd: number | null = null;
  private readonly buf = Buffer.alloc(BYTES);
  private readonly u32 = os.endianness() === 'LE'
    ? (at: number) => this.buf.readUInt32LE(at)
    : (at: number) => this.buf.readUInt32BE(at);

  /** `file`: the `-shm` file. */
  constructor(private readonly file: string) {}

  read(): WalProgress | null {
    try {
      this.fd ??= fs.openSync(this.file, 'r');
      if (fs.readSync(this.fd, this.buf, 0, BYTES, 0) < BYTES || this.u32(0) !== VERSION) return null;
      return { frames: this.u32(MX_FRAME), copied: this.u32(N_BACKFILL) };
    } catch {
      return null;
    }
  }

  close(): void {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
  }
}
