/* clock.h — the one clock leafnet measures time with: CLOCK_MONOTONIC.
 * The wall clock is only for stamping moments others compare across
 * hosts (clock_wall_ms()); never measure an interval with it. */
#ifndef LEAFNET_CLOCK_H
#define LEAFNET_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
clock_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t
clock_now_ms(void)
{
	return clock_now_ns() / 1000000ULL;
}

/* Milliseconds since the epoch (CLOCK_REALTIME). */
static inline uint64_t
clock_wall_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000ULL + (uint64_t)ts.tv_nsec / 1000000ULL;
}

#endif
