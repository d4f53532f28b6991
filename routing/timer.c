/* timer.c — monotonic milliseconds and one-shot timers.  A timer is only a
 * due time; the loop asks each owner for its next due time (bgp_timers(),
 * rib_timers(), ld_wakeup_at()) and sleeps in poll() until the earliest. */
#include <time.h>

#include "leafnetd.h"

uint64_t
ld_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	/* +1 so that a valid due time is never 0 (0 means stopped) */
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + 1;
}

void
timer_set(struct ld_timer *t, uint64_t in_ms)
{
	t->due = ld_now_ms() + in_ms;
}

void
timer_stop(struct ld_timer *t)
{
	t->due = 0;
}

bool
timer_running(const struct ld_timer *t)
{
	return t->due != 0;
}

bool
timer_expired(const struct ld_timer *t, uint64_t now)
{
	return t->due != 0 && t->due <= now;
}
