/*
 * The one registration list of lab's commands:
 *	CMD(name, flags, "summary")
 * produces the dispatch table, the prototypes (name_main, name_usage) and
 * `lab --list`. Only commands that do something are listed.
 *
 * flags: CMD_ROOT  the command needs root for most of what it does
 *        (it still starts without, to print usage or a dry run).
 */
CMD(demo, CMD_ROOT, "a whole home cloud on this machine from the embedded demo inventory; the end-to-end test")
CMD(deploy, 0, "layered file sets built per machine, sent over SSH, applied atomically, rolled back")
CMD(dns, CMD_ROOT, "authoritative and resolving DNS for the home domain, dynamic updates")
CMD(net, CMD_ROOT, "links, addresses, routes, namespaces, IP allocation, firewall (netlink)")
CMD(snap, CMD_ROOT, "btrfs snapshots by time and policy, rollback, clone, send and receive streams")
CMD(vm, CMD_ROOT, "containers on copy-on-write roots: images, instances, supervisor, network, DNS")
CMD(vpn, 0, "a userspace WireGuard that wg drives, clients with QR codes, SSH bastion, OpenVPN gateway, one port for all")
