export { remuxArgs, posterArgs, clipArgs, concatArgs, concatListFile, probeArgs } from './args.js';
export { ProgressParser, type FfmpegProgress } from './progress.js';
export { runFfmpeg, runCapture, FfmpegError, ffmpegBinary, ffprobeBinary, type RunOptions } from './process.js';
export { probeMedia, readProbe, type MediaProbe } from './probe.js';
