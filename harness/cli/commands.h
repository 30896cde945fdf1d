/* commands.h: the subcommands of build/attnbench (see docs/layers.md).
 * Each takes its own argv (argv[0] is the subcommand name), handles --help, and returns
 * the process exit code: 0 ok; 1 a case failed or compare found a regression; 2 usage or
 * config error. */
#ifndef ATTN_COMMANDS_H
#define ATTN_COMMANDS_H

int attn_cmd_list(int argc, char **argv);     /* cmd_list.c */
int attn_cmd_run(int argc, char **argv);      /* cmd_run.c */
int attn_cmd_info(int argc, char **argv);     /* cmd_info.c */
int attn_cmd_peak(int argc, char **argv);     /* cmd_peak.c */
int attn_cmd_ab(int argc, char **argv);       /* cmd_ab.c */
int attn_cmd_compare(int argc, char **argv);  /* cmd_compare.c */
int attn_cmd_history(int argc, char **argv);  /* cmd_history.c */
int attn_cmd_merge(int argc, char **argv);    /* cmd_merge.c */
int attn_cmd_plot(int argc, char **argv);     /* cmd_plot.c */
int attn_cmd_tune(int argc, char **argv);     /* cmd_tune.c */

#endif
