/* libsxrunpathtarget.so: lives only in the runpath/ folder, so only a DT_RUNPATH finds it. */
__attribute__((visibility("default"))) int
runpath_target_answer(void)
{
	return 42;
}
