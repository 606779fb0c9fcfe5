export { startAgoraEmulator } from './agora-emulator.js';
export type { AgoraEmulator, AgoraEmulatorOptions, AgoraEmulatorSettings } from './agora-emulator.js';
export { EmulatorFaults } from './emulator-faults.js';
export type { EmulatorFault, FailOptions } from './emulator-faults.js';
export { EmulatorUsers } from './emulator-users.js';
export type { EmulatedUser } from './emulator-users.js';
export { EmulatorStats } from './emulator-stats.js';
