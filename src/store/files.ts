/** The database file inside the data directory (`--data`). */
export const DB_FILE = 'presently.db';
