/*
 * `options_probe`: loads the options as the shim's constructor does
 * (options_load from the core library) and prints at_secure=<AT_SECURE of
 * this process> and one key=value line per option, so tests can see which
 * settings a configuration produced. The secure-execution test runs a
 * setuid copy of it.
 */
#include <stdio.h>
#include <sys/auxv.h>

#include "options.h"

int
main(void)
{
	option_info_t info;
	size_t i;

	options_load();
	printf("at_secure=%lu\n", getauxval(AT_SECURE));
	for (i = 0; options_describe(i, &info); i++) {
		printf("%s=%s\n", info.key, info.value_text);
	}
	return 0;
}
