export { VirtualClock } from './virtualClock.js';
