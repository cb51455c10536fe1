/**
 * Imported first by the benchmark entry points: the logger reads ROCKETMQ_LOG_LEVEL when it is
 * first imported, and benchmark output should not drown in info lines unless asked for.
 */
process.env.ROCKETMQ_LOG_LEVEL ??= 'warn';
