/*
 * `dlopen_runpath`: calls libsxrunpathloader.so, which opens a library by a
 * bare name found only through its own DT_RUNPATH. Prints the value that
 * library returns and exits 0 when it is 42.
 */
#include <stdio.h>

int runpath_loader_open(void);

int
main(void)
{
	int answer = runpath_loader_open();

	printf("answer %d\n", answer);
	return answer == 42 ? 0 : 1;
}
