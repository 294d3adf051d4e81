import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";

/** A data directory another live process holds; nothing was opened or written. */
export class DataDirBusyError extends Error {
  override name = "DataDirBusyError";
}

const LOCK_FILE = "amp.lock";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, still alive.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the data directory for this process, or throws DataDirBusyError when
 * a live process (a running server, another CLI command) holds it. PGlite is
 * one process per directory: a second opener sees a stale copy and its
 * writes are lost when the holder next writes, so it must refuse loudly.
 * The lock is a file with the holder's pid, created exclusively; one left by
 * a process that died (kill -9, a crash) is taken over. Returns the release.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = `${dataDir}/${LOCK_FILE}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(file, "utf8").trim() === String(process.pid)) unlinkSync(file);
        } catch {}
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let holder = Number.NaN;
    try {
      holder = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
    } catch {}
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
      throw new DataDirBusyError(
        `The data directory ${dataDir} is in use by process ${holder} (a running marketplace or agent, e.g. \`npm start\`). ` +
          "PGlite allows one process per data directory: stop that process first, or run both against PostgreSQL " +
          `(DATABASE_URL). If no such process is running, delete ${file}.`,
      );
    }
    // Stale (its process is gone) or unreadable half-written: take it over.
    try {
      unlinkSync(file);
    } catch {}
  }
  throw new DataDirBusyError(`Could not take the lock ${file}; another process keeps taking it.`);
}
