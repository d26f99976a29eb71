/*
 * libsxtls: a library with 1 MiB of thread-local data, too large for the
 * static TLS surplus, so each thread that touches it after dlopen gets a
 * block from __tls_get_addr, which calls malloc.
 */
#include <stddef.h>

static __thread unsigned char tls_buffer[1 << 20];

/* Fills every page of this thread's buffer with seed and returns the sum read back. */
unsigned long
tls_lib_fill(unsigned char seed)
{
	unsigned long sum = 0;
	size_t i;

	for (i = 0; i < sizeof(tls_buffer); i += 4096) {
		tls_buffer[i] = seed;
	}
	for (i = 0; i < sizeof(tls_buffer); i += 4096) {
		sum += tls_buffer[i];
	}
	return sum;
}
