/*
 * lab vpn's subcommands that live in files of their own (cmd/vpn_*.c);
 * cmd/vpn.c dispatches to them. Each takes argv[0] = its own name.
 */
#ifndef LAB_CMD_VPN_H
#define LAB_CMD_VPN_H

int vpn_qr_main(int argc, char **argv);
int vpn_peer_main(int argc, char **argv);
int vpn_openvpn_main(int argc, char **argv);
int vpn_bastion_main(int argc, char **argv);
int vpn_mux_main(int argc, char **argv);

#endif
