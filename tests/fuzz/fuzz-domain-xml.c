/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A libvirt domain XML document (virDomainGetXMLDesc, `virsh dumpxml`, or
 * `virt-tune analyze --xml`): parsed under its bounds, then the lookups the
 * daemon makes on the facts.
 */
#include "domain.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(VtDomainFacts) facts = NULL;
	g_autoptr(GError) error = NULL;

	vt_fuzz_setup();
	facts = vt_domain_facts_parse((const char *)data, (gssize)size, &error);
	if (facts == NULL) {
		g_assert(error != NULL);
		return 0;
	}
	(void)vt_domain_facts_agent_connected(facts);
	(void)vt_domain_facts_controller(facts, "scsi", 0);
	(void)vt_domain_facts_controller(facts, "virtio-serial", 0);
	return 0;
}
