// A C++ library that a C host loads with dlopen: it allocates with new and
// std::string, and reports jemalloc's per-thread counter around that, so the
// host can tell whether the shim served the C++ allocations.
#include <cstdint>
#include <dlfcn.h>
#include <string>
#include <vector>

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

static uint64_t
allocated_bytes()
{
	mallctl_fn mallctl_ptr = reinterpret_cast<mallctl_fn>(dlsym(RTLD_DEFAULT, "mallctl"));
	uint64_t value = 0;
	size_t length = sizeof(value);

	if (mallctl_ptr == nullptr || mallctl_ptr("thread.allocated", &value, &length,
	    nullptr, 0) != 0) {
		return 0;
	}
	return value;
}

extern "C" long
plugin_work(uint64_t *allocated_delta, void **leaked)
{
	uint64_t before = allocated_bytes();
	std::vector<std::string> words;
	long total = 0;

	for (int i = 0; i < 1000; i++) {
		words.push_back(std::string(100 + i % 50, 'x'));
	}
	for (const auto &word : words) {
		total += static_cast<long>(word.size());
	}
	// Handed to the C host, which frees it with free(): one heap for both.
	*leaked = new char[4096];
	*allocated_delta = allocated_bytes() - before;
	return total;
}
