/*
 * libsxrunpathloader.so: has DT_RUNPATH $ORIGIN/runpath and opens
 * libsxrunpathtarget.so by its bare name. glibc searches the calling
 * object's DT_RUNPATH, so the call works only if the dlopen that glibc receives
 * still comes from this library (its return address).
 */
#include <dlfcn.h>
#include <stdio.h>

__attribute__((visibility("default"))) int
runpath_loader_open(void)
{
	void *handle = dlopen("libsxrunpathtarget.so", RTLD_NOW | RTLD_LOCAL);
	int (*answer)(void);

	if (handle == NULL) {
		printf("dlopen libsxrunpathtarget.so: %s\n", dlerror());
		return -1;
	}
	*(void **)&answer = dlsym(handle, "runpath_target_answer");
	return answer != NULL ? answer() : -1;
}
