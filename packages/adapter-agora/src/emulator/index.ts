// The emulator's one entry: start it, then drive it through the returned object's faults, users, stats.
export { startAgoraEmulator, type AgoraEmulator, type AgoraEmulatorOptions, type AgoraEmulatorSettings } from './agora-emulator.js';
export type { EmulatorFaults, EmulatorFault, FailOptions } from './emulator-faults.js';
export type { EmulatorUsers, EmulatedUser } from './emulator-users.js';
export type { EmulatorStats } from './emulator-stats.js';
