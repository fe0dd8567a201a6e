/** The database file inside the data directory (`--data`). */
export const DB_FILE = 'presently.db';
/** The presence journal's folder inside the data directory (docs/operations/storage.md#presence-journal). */
export const JOURNAL_DIR = 'presence-journal';
/** How its journal files are named (`journal-NNNNNNNN`, one per generation; a start replays those after the snapshot). */
export const JOURNAL_FILE_PREFIX = 'journal-';
