/**
 * messenger's variables, beyond the platform's (REDIS_URL, MYSQL_URL, ...): none yet. The live
 * socket's knobs (heartbeat, buffer bound) are the platform's, shared with every service that
 * holds sockets.
 */
export const messengerConfig = {};
