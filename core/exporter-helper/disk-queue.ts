import { closeSync, openSync, fsyncSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RetryableError } from '../errors.js';
import { PushLedger, QueueFullError, type ExportQueue } from './queue.js';

/** A segment is closed and a new one started beyond this size; consumed segments are deleted whole. */
const SEGMENT_BYTES = 8 * 1024 * 1024;
/** Read granularity of peek; a longer line is read whole. */
const READ_CHUNK = 1024 * 1024;
const NEWLINE = 0x0a;
const TAB = 0x09;

interface Position { seg: number; off: number }

/** Directories open in this process: the pid lock file cannot tell two exporters of one process apart. */
const openDirs = new Set<string>();

const segName = (seg: number): string => `seg-${String(seg).padStart(12, '0')}.log`;
const SEG_RE = /^seg-(\d{12})\.log$/;

/**
 * A persistent FIFO in append-only segment files (Vector's disk buffer, the collector's persistent
 * queue). Each record is one line `<enqueue ms>\t<record>\n`. push() resolves after the bytes are
 * written and fdatasync'ed, so an acknowledged record survives kill -9 and power loss; concurrent
 * pushes share one write and one fsync (group commit). The read position lives in `cursor.json`,
 * replaced atomically on ack; a crash between a send and its ack re-delivers that batch.
 * A tail without its newline (torn write, never acknowledged) is cut off on open.
 */
export class DiskQueue implements ExportQueue {
  readonly persistent = true;
  private readonly ledger = new PushLedger();
  private readonly segSizes = new Map<number, number>();
  private cursor: Position = { seg: 1, off: 0 };
  private writeSeg = 1;
  private writeSize = 0;
  private writer: FileHandle | undefined;
  private reserved = 0;
  private pending: { data: string; rows: number; bytes: number; ms: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private broken: Error | undefined;
  private peekEnds: Position[] = [];
  private peekBytes: number[] = [];

  readonly dir: string;

  constructor(dir: string, private readonly maxBytes: number, private readonly now: () => number = Date.now) {
    this.dir = resolve(dir);
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.lock();
    this.cursor = await this.readCursor();
    const segs = (await readdir(this.dir)).map((f) => SEG_RE.exec(f)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
    for (const seg of segs) if (seg < this.cursor.seg) await rm(join(this.dir, segName(seg)));
    const live = segs.filter((s) => s >= this.cursor.seg);
    if (live.length === 0 || live[0] !== this.cursor.seg) live.unshift(this.cursor.seg);
    for (const seg of live) this.segSizes.set(seg, await this.recover(seg, seg === live[live.length - 1]));
    this.writeSeg = live[live.length - 1];
    this.writeSize = this.segSizes.get(this.writeSeg) ?? 0;
    this.writer = await open(join(this.dir, segName(this.writeSeg)), 'a');
    await this.syncDir();
  }

  push(items: readonly string[]): Promise<void> {
    if (this.broken) return Promise.reject(new RetryableError(`disk queue ${this.dir} is unusable: ${this.broken.message}`, 5, { cause: this.broken }));
    if (!this.writer) return Promise.reject(new RetryableError(`disk queue ${this.dir} is not open`));
    if (items.length === 0) return Promise.resolve();
    const ms = this.now();
    let data = '';
    for (const item of items) {
      if (item.includes('\n')) return Promise.reject(new Error('disk queue records must not contain a newline'));
      data += `${ms}\t${item}\n`;
    }
    const bytes = Buffer.byteLength(data);
    const used = this.ledger.bytes + this.reserved;
    if (used + bytes > this.maxBytes) {
      return Promise.reject(new QueueFullError(`disk queue ${this.dir} is full: ${used} of ${this.maxBytes} bytes used, ${bytes} more offered`));
    }
    this.reserved += bytes;
    return new Promise((resolve, reject) => {
      this.pending.push({ data, rows: items.length, bytes, ms, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      let data = '';
      for (const p of group) data += p.data;
      const buf = Buffer.from(data);
      try {
        if (this.broken) throw this.broken;
        if (this.writeSize >= SEGMENT_BYTES) await this.rotate();
        const w = this.writer;
        if (!w) throw new Error('disk queue is closed');
        let done = 0;
        while (done < buf.length) done += (await w.write(buf, done, buf.length - done)).bytesWritten;
        await w.datasync();
        this.writeSize += buf.length;
        this.segSizes.set(this.writeSeg, this.writeSize);
        for (const p of group) { this.reserved -= p.bytes; this.ledger.add(p.ms, p.rows, p.bytes); p.resolve(); }
      } catch (err) {
        await this.undoPartialWrite();
        const e = err instanceof Error ? err : new Error(String(err));
        for (const p of group) { this.reserved -= p.bytes; p.reject(new RetryableError(`disk queue ${this.dir}: write failed: ${e.message}`, 5, { cause: e })); }
      }
    }
    this.flushing = undefined;
  }

  /** A failed write may have left part of a group in the file: cut back to the last good size. */
  private async undoPartialWrite(): Promise<void> {
    try {
      await this.writer?.truncate(this.writeSize);
    } catch (err) {
      this.broken = err instanceof Error ? err : new Error(String(err));
    }
  }

  private async rotate(): Promise<void> {
    const next = this.writeSeg + 1;
    const handle = await open(join(this.dir, segName(next)), 'a');
    await this.syncDir();
    await this.writer?.close();
    this.writer = handle;
    this.writeSeg = next;
    this.writeSize = 0;
    this.segSizes.set(next, 0);
  }

  async peek(max: number): Promise<string[]> {
    const items: string[] = [];
    this.peekEnds = [];
    this.peekBytes = [];
    let { seg, off } = this.cursor;
    while (items.length < max && seg <= this.writeSeg) {
      const end = this.segSizes.get(seg) ?? 0;
      if (off >= end) { if (seg === this.writeSeg) break; seg++; off = 0; continue; }
      const buf = await this.readLines(seg, off, end);
      let start = 0;
      for (let nl = buf.indexOf(NEWLINE); nl !== -1 && items.length < max; nl = buf.indexOf(NEWLINE, start)) {
        const tab = buf.indexOf(TAB, start);
        items.push(buf.toString('utf8', tab + 1, nl));
        this.peekBytes.push(nl + 1 - start);
        start = nl + 1;
        this.peekEnds.push({ seg, off: off + start });
      }
      off += start;
    }
    return items;
  }

  /** Whole lines from `off`, at least one (a line longer than READ_CHUNK is read whole). */
  private async readLines(seg: number, off: number, end: number): Promise<Buffer> {
    const fh = await open(join(this.dir, segName(seg)), 'r');
    try {
      let len = Math.min(READ_CHUNK, end - off);
      for (;;) {
        const buf = Buffer.allocUnsafe(len);
        const { bytesRead } = await fh.read(buf, 0, len, off);
        const last = buf.lastIndexOf(NEWLINE, bytesRead - 1);
        if (last !== -1) return buf.subarray(0, last + 1);
        if (len >= end - off) throw new Error(`disk queue ${this.dir}: ${segName(seg)} has a record without its newline at ${off}`);
        len = Math.min(len * 2, end - off);
      }
    } finally {
      await fh.close();
    }
  }

  async ack(count: number): Promise<void> {
    if (count <= 0) return;
    if (count > this.peekEnds.length) throw new Error(`disk queue: ack(${count}) beyond the ${this.peekEnds.length} records peeked`);
    const to = this.peekEnds[count - 1];
    let bytes = 0;
    for (let i = 0; i < count; i++) bytes += this.peekBytes[i];
    await this.writeCursor(to);
    const from = this.cursor.seg;
    this.cursor = to;
    this.ledger.remove(count, bytes);
    this.peekEnds = this.peekEnds.slice(count);
    this.peekBytes = this.peekBytes.slice(count);
    for (let seg = from; seg < to.seg; seg++) {
      this.segSizes.delete(seg);
      await rm(join(this.dir, segName(seg)), { force: true });
    }
  }

  get rows(): number { return this.ledger.rows; }
  get bytes(): number { return this.ledger.bytes; }
  get oldestMs(): number | undefined { return this.ledger.oldestMs; }

  async close(): Promise<void> {
    await this.flushing;
    await this.writer?.close();
    this.writer = undefined;
    await rm(join(this.dir, 'lock'), { force: true });
    openDirs.delete(this.dir);
  }

  /** One process per queue directory: two writers would interleave segments and cursors. */
  private async lock(): Promise<void> {
    if (openDirs.has(this.dir)) throw new Error(`disk queue ${this.dir} is already open in this process; give each exporter its own queue.path`);
    const path = join(this.dir, 'lock');
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (holder && holder !== process.pid && isAlive(holder)) {
      throw new Error(`disk queue ${this.dir} is in use by process ${holder}; give each exporter its own queue.path`);
    }
    await writeFile(path, String(process.pid));
    openDirs.add(this.dir);
  }

  private async readCursor(): Promise<Position> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'cursor.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { seg: 1, off: 0 };
      throw err;
    }
    const parsed: unknown = JSON.parse(text);
    if (!isPosition(parsed)) throw new Error(`disk queue ${this.dir}: cursor.json is not {seg, off}: ${text.slice(0, 100)}`);
    return parsed;
  }

  private async writeCursor(pos: Position): Promise<void> {
    const tmp = join(this.dir, 'cursor.json.tmp');
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(pos));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, 'cursor.json'));
  }

  /**
   * Rebuilds the ledger from a segment (from the cursor on, for the first one) and returns its
   * valid size; the last segment loses a torn tail.
   */
  private async recover(seg: number, last: boolean): Promise<number> {
    const path = join(this.dir, segName(seg));
    const size = await stat(path).then((s) => s.size, (err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return -1; throw err; });
    if (size < 0) { await writeFile(path, ''); return 0; }
    const from = seg === this.cursor.seg ? Math.min(this.cursor.off, size) : 0;
    const buf = size > from ? (await readFile(path)).subarray(from) : Buffer.alloc(0);
    let start = 0;
    for (let nl = buf.indexOf(NEWLINE); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
      const tab = buf.indexOf(TAB, start);
      this.ledger.add(Number(buf.toString('latin1', start, tab)), 1, nl + 1 - start);
      start = nl + 1;
    }
    const valid = from + start;
    if (valid < size) {
      if (!last) throw new Error(`disk queue ${this.dir}: ${segName(seg)} is corrupt after byte ${valid}`);
      const fh = await open(path, 'r+');
      try { await fh.truncate(valid); await fh.datasync(); } finally { await fh.close(); }
    }
    return valid;
  }

  private async syncDir(): Promise<void> {
    const fd = openSync(this.dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  }
}

function isPosition(v: unknown): v is Position {
  return typeof v === 'object' && v !== null && Number.isInteger((v as Position).seg) && Number.isInteger((v as Position).off);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
