/* libsxslowinit.so: a constructor that takes 400 ms, so a test can act while dlopen runs. */
#include <time.h>

__attribute__((constructor)) static void
slow_init(void)
{
	struct timespec delay = { 0, 400 * 1000 * 1000 };

	nanosleep(&delay, NULL);
}
