# SPDX-License-Identifier: GPL-2.0-or-later
"""The host-package guest: the distro guest's Debian 12 root (vte2e/distro.py)
with libvirt's system daemon, its clients and QEMU, plus every package the
freshly built virt-tune .deb depends on, all from the machine's apt mirror and
cached as a root of its own; per run, a copy with that .deb installed by
dpkg -i. It boots with enough memory for a small domain of its own."""

import os
import re
import time

from . import distro
from .util import HarnessError, log, run

# What a host that runs virt-tuned has besides the package's own Depends.
HOST_PACKAGES = ["libvirt-daemon-system", "libvirt-clients", "qemu-system-x86"]
IMAGE_MIB = 3072
MEMORY_MIB = 1536
HOSTNAME = "vt-e2e-host"


def deb_depends(deb):
    """The package names a .deb's Depends line asks for (the first of each
    set of alternatives, versions dropped)."""
    res = run(["dpkg-deb", "--field", deb, "Depends"])
    names = []
    for item in res.stdout.split(","):
        first = item.split("|")[0].strip()
        m = re.match(r"([a-z0-9][a-z0-9+.-]*)", first)
        if not m:
            raise HarnessError("Depends of %s not understood: %r" % (deb, res.stdout))
        names.append(m.group(1))
    return names


def build_image(workdir, deb):
    """Copy of the cached host root + dpkg -i DEB → ext4 image.
    Returns (image, kernel, initrd)."""
    t0 = time.monotonic()
    extra = sorted(set(HOST_PACKAGES + deb_depends(deb)))
    root = os.path.join(workdir, "distro-root")
    run(["cp", "-a", distro.base_root(extra), root], timeout=600)
    distro.install_debs(root, [deb])
    image, kernel, initrd = distro.pack_image(workdir, root, HOSTNAME, IMAGE_MIB)
    log("host-package image %s in %.1fs" % (image, time.monotonic() - t0))
    return image, kernel, initrd


def console_path(workdir):
    return os.path.join(workdir, "distro-console.log")


def domain_xml(name, workdir, image, kernel, initrd, dtype):
    return distro.guest_xml(name, workdir, image, kernel, initrd, dtype, MEMORY_MIB)
