// Imported first by the CLI, before anything touches the libuv thread pool (it is sized on first use).
// scrypt hashing (2 at a time by default, ~100 ms each) and sqlite3 queries share that pool with
// fs and dns; with the default 4 threads two slow hashes would halve the database's share.
if (process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = '8';
export {};
