/* The vkft subcommands: one file per subcommand, tools/cmd_NAME.c, each `int cmd_NAME(argc, argv)`
 * returning the process exit status. argv[0] is the subcommand's own name. */
#ifndef VKFT_COMMANDS_H
#define VKFT_COMMANDS_H

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} vkft_command;

int cmd_devices(int argc, char **argv);
int cmd_selfcheck(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_train_head(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_tokenizer(int argc, char **argv);

#endif
