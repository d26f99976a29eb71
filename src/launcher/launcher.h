/* The launcher's subcommands. */
#ifndef SX_LAUNCHER_H
#define SX_LAUNCHER_H

#include <stdbool.h>
#include <stdio.h>

/* Prints every option with its value and where it came from. Returns 0. */
int launcher_print_config(FILE *out);

/* Prints each limit source, the effective limit, margin, footprint and PSI; JSON when json. */
int launcher_print_status(FILE *out, bool json);

/*
 * Prepends the shim to LD_PRELOAD and executes argv[0] (searched in PATH).
 * Returns only on failure: 127 when the command is not found, 126 otherwise.
 */
int launcher_exec(char **argv);

/*
 * The thermal and CPU part of `safeexec status`: JSON members (each preceded
 * by ", ") and text lines.
 */
void launcher_status_json_gate(FILE *out);
void launcher_status_text_gate(FILE *out);

#endif
