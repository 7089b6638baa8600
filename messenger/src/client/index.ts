/**
 * `@switchyard/messenger/client`: the live client (reconnect, resume, dedupe), for Node 24+ and
 * browsers. Imports no server code.
 */
export { MessengerLiveClient, liveUrl, type LiveClientEvent, type MessengerLiveClientOptions, type WebSocketLike } from './live-client.js';
export { DedupeWindow, laterId } from './dedupe-window.js';
export { DEFAULT_BACKOFF, reconnectDelay, type ReconnectBackoff } from './reconnect-delay.js';
