// `software-maker status | head`: once the reader has gone, nothing we print can arrive anywhere, so
// the CLI stops quietly, as programs killed by SIGPIPE do, instead of dying on an unhandled EPIPE.

/** Exits at once, without a message, when `stream`'s reader closes; other stream errors still throw. */
export function exitQuietlyWhenReaderCloses(stream: NodeJS.WriteStream, exit: (code: number) => never = process.exit): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw error;
  });
}
