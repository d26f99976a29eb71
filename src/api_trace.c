/* safeexec_trace_mark: the program's own marks on the trace timeline. */
#include "fmt.h"
#include "safeexec.h"
#include "trace.h"

SX_EXPORT void
safeexec_trace_mark(const char *event, const char *detail)
{
	char text[TRACE_DETAIL_MAX];

	if (!trace_enabled()) {
		return;
	}
	if (detail != NULL && detail[0] != '\0') {
		fmt_format(text, sizeof(text), "%s:%s", event != NULL ? event : "", detail);
	} else {
		fmt_format(text, sizeof(text), "%s", event != NULL ? event : "");
	}
	trace_event("mark", 0, text);
}
