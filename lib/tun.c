#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "buf.h"

int
tun_open(char *name, unsigned flags)
{
	struct ifreq ifr;
	int fd, saved;

	if (strlen(name) >= IFNAMSIZ) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	str_copy(ifr.ifr_name, name, IFNAMSIZ);
	ifr.ifr_flags = (short)(((flags & TUN_TAP) ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
	if (flags & TUN_MULTI_QUEUE)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (flags & TUN_VNET_HDR)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	str_copy(name, ifr.ifr_name, IFNAMSIZ);
	return fd;
}

int
tun_create_persistent(const char *name, unsigned flags, uid_t uid, gid_t gid)
{
	char n[IFNAMSIZ];
	int fd, saved;

	if (if_nametoindex(name)) {
		errno = EEXIST;	/* TUNSETIFF would attach to it instead */
		return -1;
	}
	if (str_copy(n, name, sizeof(n)) >= sizeof(n)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = tun_open(n, flags);
	if (fd < 0)
		return -1;
	if ((uid != (uid_t)-1 && ioctl(fd, TUNSETOWNER, (unsigned long)uid) < 0) ||
	    (gid != (gid_t)-1 && ioctl(fd, TUNSETGROUP, (unsigned long)gid) < 0) ||
	    ioctl(fd, TUNSETPERSIST, 1UL) < 0) {
		saved = errno;
		close(fd);	/* not persistent yet: the device goes with the fd */
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}
