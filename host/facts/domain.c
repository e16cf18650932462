/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "domain.h"

#include "error.h"

static void
address_clear(VtDeviceAddress *a)
{
	g_clear_pointer(&a->type, g_free);
}

static void
disk_free(gpointer p)
{
	VtDiskFacts *d = p;

	g_free(d->type);
	g_free(d->device);
	g_free(d->bus);
	g_free(d->target_dev);
	g_free(d->driver_name);
	g_free(d->format);
	g_free(d->cache);
	g_free(d->io);
	g_free(d->serial);
	g_free(d->source);
	g_free(d->backing_format);
	address_clear(&d->address);
	g_free(d);
}

static void
iface_free(gpointer p)
{
	VtIfaceFacts *i = p;

	g_free(i->type);
	g_free(i->mac);
	g_free(i->model);
	g_free(i->driver_name);
	g_free(i->target_dev);
	g_free(i->source);
	address_clear(&i->address);
	g_free(i);
}

static void
channel_free(gpointer p)
{
	VtChannelFacts *c = p;

	g_free(c->type);
	g_free(c->source_mode);
	g_free(c->source_path);
	g_free(c->target_type);
	g_free(c->target_name);
	g_free(c->target_state);
	g_free(c);
}

static void
controller_free(gpointer p)
{
	VtControllerFacts *c = p;

	g_free(c->type);
	g_free(c->model);
	g_free(c);
}

void
vt_domain_facts_free(VtDomainFacts *f)
{
	if (f == NULL)
		return;
	g_free(f->name);
	g_free(f->uuid);
	g_free(f->type);
	g_free(f->cpu_mode);
	g_free(f->cpu_model);
	g_free(f->balloon_model);
	g_free(f->numatune_mode);
	g_free(f->numatune_nodeset);
	g_free(f->vcpupin_cpusets);
	g_free(f->emulatorpin_cpuset);
	g_ptr_array_unref(f->disks);
	g_ptr_array_unref(f->ifaces);
	g_ptr_array_unref(f->channels);
	g_ptr_array_unref(f->controllers);
	g_free(f);
}

VtDomainFacts *
vt_domain_facts_new(void)
{
	VtDomainFacts *f = g_new0(VtDomainFacts, 1);

	f->disks = g_ptr_array_new_with_free_func(disk_free);
	f->ifaces = g_ptr_array_new_with_free_func(iface_free);
	f->channels = g_ptr_array_new_with_free_func(channel_free);
	f->controllers = g_ptr_array_new_with_free_func(controller_free);
	return f;
}

VtDomainFacts *
vt_domain_facts_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) local = NULL;
	VtDomainFacts *facts;
	gsize len = 0;

	if (!g_file_get_contents(path, &text, &len, &local)) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "%s", local->message);
		return NULL;
	}
	facts = vt_domain_facts_parse(text, (gssize)len, &local);
	if (facts == NULL)
		g_set_error(error, VT_ERROR, local->code, "%s: %s", path, local->message);
	return facts;
}

const VtChannelFacts *
vt_domain_facts_agent_channel(const VtDomainFacts *facts)
{
	for (guint i = 0; facts != NULL && i < facts->channels->len; i++) {
		const VtChannelFacts *c = facts->channels->pdata[i];
		if (g_strcmp0(c->target_type, "virtio") == 0 &&
		    g_strcmp0(c->target_name, VT_AGENT_CHANNEL_NAME) == 0)
			return c;
	}
	return NULL;
}

gboolean
vt_domain_facts_agent_connected(const VtDomainFacts *facts)
{
	const VtChannelFacts *c = vt_domain_facts_agent_channel(facts);

	return c != NULL && g_strcmp0(c->target_state, "connected") == 0;
}

const VtControllerFacts *
vt_domain_facts_controller(const VtDomainFacts *facts, const char *type, guint index)
{
	for (guint i = 0; facts != NULL && i < facts->controllers->len; i++) {
		const VtControllerFacts *c = facts->controllers->pdata[i];
		if (g_strcmp0(c->type, type) == 0 && c->index == index)
			return c;
	}
	return NULL;
}
