/*
 * `ctor_host`: linked with libsxctor, whose constructor and destructor
 * allocate. main checks the constructor's blocks and allocates a little
 * itself; exits 0 when ctor_lib_check passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctor_lib_check(void);

int
main(void)
{
	char *text = malloc(32);
	int ok = ctor_lib_check();

	if (text == NULL) {
		return 1;
	}
	strcpy(text, "main: ok");
	printf("%s\n", text);
	fflush(stdout);
	free(text);
	return ok ? 0 : 1;
}
