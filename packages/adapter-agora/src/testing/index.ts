export * from './access-token-codec.js';
