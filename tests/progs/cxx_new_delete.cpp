// Every operator new/delete form under the shim: `cxx_new_delete CASE`.
//   forms:      each form allocates, writes, checks alignment and frees;
//               jemalloc's thread.allocated counter must grow by what was
//               requested, proving the shim served the call.
//   bad_alloc:  under a memory limit, a huge new throws std::bad_alloc and a
//               nothrow new returns nullptr; the program then goes on.
//   new_handler: a new-handler that frees a reserve lets the retry succeed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <new>
#include <vector>

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

static uint64_t
allocated_bytes()
{
	static mallctl_fn mallctl_ptr =
	    reinterpret_cast<mallctl_fn>(dlsym(RTLD_DEFAULT, "mallctl"));
	uint64_t epoch = 1, value = 0;
	size_t length = sizeof(value);

	if (mallctl_ptr == nullptr) {
		return 0;
	}
	mallctl_ptr("epoch", &epoch, &length, &epoch, sizeof(epoch));
	length = sizeof(value);
	mallctl_ptr("thread.allocated", &value, &length, nullptr, 0);
	return value;
}

struct alignas(64) Aligned64 {
	char bytes[192];
};

static int failures;

#define EXPECT(cond) do { if (!(cond)) { \
	std::printf("FAILED: %s (line %d)\n", #cond, __LINE__); failures++; } } while (0)

static void
case_forms()
{
	uint64_t before = allocated_bytes();
	char *plain = new char[1000];
	int *single = new int(42);
	char *nothrow_plain = new (std::nothrow) char[2000];
	int *nothrow_single = new (std::nothrow) int(7);
	Aligned64 *aligned_single = new Aligned64;
	Aligned64 *aligned_array = new Aligned64[10];
	Aligned64 *aligned_nothrow = new (std::nothrow) Aligned64;
	Aligned64 *aligned_nothrow_array = new (std::nothrow) Aligned64[3];
	void *raw_aligned = ::operator new(512, std::align_val_t(4096));
	void *raw_aligned_nothrow = ::operator new(512, std::align_val_t(4096), std::nothrow);
	void *raw_array_aligned = ::operator new[](512, std::align_val_t(256));
	uint64_t after = allocated_bytes();

	EXPECT(dlsym(RTLD_DEFAULT, "mallctl") != nullptr);
	EXPECT(after - before >= 1000 + 4 + 2000 + 4 + 192 * 14 + 512 * 3);
	EXPECT(*single == 42);
	EXPECT(*nothrow_single == 7);
	EXPECT(reinterpret_cast<uintptr_t>(aligned_single) % 64 == 0);
	EXPECT(reinterpret_cast<uintptr_t>(aligned_array) % 64 == 0);
	EXPECT(reinterpret_cast<uintptr_t>(aligned_nothrow) % 64 == 0);
	EXPECT(reinterpret_cast<uintptr_t>(aligned_nothrow_array) % 64 == 0);
	EXPECT(reinterpret_cast<uintptr_t>(raw_aligned) % 4096 == 0);
	EXPECT(reinterpret_cast<uintptr_t>(raw_aligned_nothrow) % 4096 == 0);
	EXPECT(reinterpret_cast<uintptr_t>(raw_array_aligned) % 256 == 0);
	std::memset(plain, 1, 1000);
	std::memset(nothrow_plain, 2, 2000);

	delete[] plain;
	delete single;
	delete[] nothrow_plain;
	::operator delete(nothrow_single, std::nothrow);
	delete aligned_single;
	delete[] aligned_array;
	::operator delete(aligned_nothrow, std::align_val_t(64), std::nothrow);
	::operator delete[](aligned_nothrow_array, std::align_val_t(64), std::nothrow);
	::operator delete(raw_aligned, 512, std::align_val_t(4096));
	::operator delete(raw_aligned_nothrow, std::align_val_t(4096));
	::operator delete[](raw_array_aligned, 512, std::align_val_t(256));

	// Sized delete of plain objects, as compilers emit with -fsized-deallocation.
	std::vector<std::vector<int>> nested(100, std::vector<int>(100, 3));
	long sum = 0;
	for (const auto &row : nested) {
		for (int value : row) {
			sum += value;
		}
	}
	EXPECT(sum == 30000);
}

// Large blocks from every non-aligned form of operator new start on a 2 MiB
// boundary when huge page placement is on (the test gives a sysfs fixture).
static void
case_huge_placement()
{
	const size_t bytes = size_t(8) << 20;
	char *array = new char[bytes];
	char *nothrow_array = new (std::nothrow) char[bytes];
	void *raw = ::operator new(bytes);

	EXPECT(reinterpret_cast<uintptr_t>(array) % (size_t(2) << 20) == 0);
	EXPECT(reinterpret_cast<uintptr_t>(nothrow_array) % (size_t(2) << 20) == 0);
	EXPECT(reinterpret_cast<uintptr_t>(raw) % (size_t(2) << 20) == 0);
	std::memset(array, 1, bytes);
	std::memset(nothrow_array, 2, bytes);
	std::memset(raw, 3, bytes);
	EXPECT(array[bytes - 1] == 1 && nothrow_array[0] == 2);

	delete[] array;
	delete[] nothrow_array;
	::operator delete(raw, bytes);
}

static void
case_bad_alloc()
{
	bool thrown = false;
	char *nothrow_result;

	try {
		char *huge = new char[size_t(2) << 30];
		huge[0] = 1;
		delete[] huge;
	} catch (const std::bad_alloc &) {
		thrown = true;
	}
	EXPECT(thrown);
	nothrow_result = new (std::nothrow) char[size_t(2) << 30];
	EXPECT(nothrow_result == nullptr);
	thrown = false;
	try {
		void *p = ::operator new(size_t(2) << 30, std::align_val_t(4096));
		::operator delete(p, std::align_val_t(4096));
	} catch (const std::bad_alloc &) {
		thrown = true;
	}
	EXPECT(thrown);

	char *small = new char[1 << 20];
	std::memset(small, 1, 1 << 20);
	delete[] small;
}

static char *reserve;
static int handler_calls;

static void
release_reserve()
{
	handler_calls++;
	delete[] reserve;
	reserve = nullptr;
	std::set_new_handler(nullptr);
}

static void
case_new_handler()
{
	// Under a 512 MiB budget: hold 300 MiB, then ask for 250 MiB; the handler frees the reserve.
	reserve = new char[size_t(300) << 20];
	std::memset(reserve, 1, size_t(300) << 20);
	std::set_new_handler(release_reserve);
	char *big = new char[size_t(250) << 20];
	std::memset(big, 2, size_t(250) << 20);
	EXPECT(handler_calls == 1);
	delete[] big;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		std::fprintf(stderr, "usage: cxx_new_delete forms|huge_placement|bad_alloc|new_handler\n");
		return 2;
	}
	if (std::strcmp(argv[1], "forms") == 0) {
		case_forms();
	} else if (std::strcmp(argv[1], "huge_placement") == 0) {
		case_huge_placement();
	} else if (std::strcmp(argv[1], "bad_alloc") == 0) {
		case_bad_alloc();
	} else if (std::strcmp(argv[1], "new_handler") == 0) {
		case_new_handler();
	} else {
		return 2;
	}
	if (failures == 0) {
		std::printf("ok %s\n", argv[1]);
	}
	return failures == 0 ? 0 : 1;
}
