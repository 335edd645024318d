// SPDX-License-Identifier: Apache-2.0
// The subcommands of `iaso`, one function each; main.c dispatches to them.
#ifndef IASO_CLI_CLI_H
#define IASO_CLI_CLI_H

/* `iaso sensor inventory PATH`. argv[1] is "sensor", argv[2] "inventory". */
int cmd_sensor_inventory(int argc, char **argv);

/* `iaso sensor baseline ...`. argv[1] is "sensor", argv[2] "baseline". */
int cmd_sensor_baseline(int argc, char **argv);

/* `iaso indicators check PATH...`. argv[1] is "indicators". */
int cmd_indicators(int argc, char **argv);

/* `iaso centre ...`. argv[1] is "centre". */
int cmd_centre(int argc, char **argv);

#endif
