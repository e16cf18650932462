/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The apply tests' fixture: a fake sysroot, a fake NIC, an applier on them. */
#pragma once

#include <glib.h>

#include "apply/apply.h"
#include "fake.h"

typedef struct {
	char *root;
	char *state;
	FakeNic nic;
	VtApplier *ap;
	GPtrArray *keep; /* what rd() read, freed at teardown */
} Fixture;

#define ST(x) VIRTTUNE__V1__APPLY_RESULT__STATUS__##x

/* Every class allowed, with bounds the cases run into. */
#define ALL                                                                                        \
	"allow=channels;features;rings;scheduler;queue;sysctl:vm.swappiness;"                      \
	"sysctl:kernel.transparent_hugepage.enabled\n"                                             \
	"channels.max=3\nrings.max=512\nqueue.nr_requests.max=1024\n"                              \
	"sysctl.vm.swappiness.min=1\nsysctl.vm.swappiness.max=100\n"

#define SWAP10 "{\"set_sysctl\":{\"key\":\"vm.swappiness\",\"value\":\"10\"}}"

/* A file's text under the fake root, kept until teardown; NULL if none. */
#define rd(f, rel) fixture_keep((f), fake_read((f)->root, (rel)))

const char *fixture_keep(Fixture *f, char *s);

void fixture_setup(Fixture *f, gconstpointer data);
void fixture_teardown(Fixture *f, gconstpointer data);
/* The last teardown of a test, that also frees what rd() kept. */
void fixture_teardown_last(Fixture *f, gconstpointer data);

/* An applier on the same root and journal, as after a restart, with @policy. */
void fixture_restart(Fixture *f, const char *policy, GPtrArray *warnings);

/* The policy of an agent.conf [apply] group holding @apply_group. */
void set_policy(Fixture *f, const char *apply_group);

VtApplyResult *apply_json(Fixture *f, const char *json);
VtApplyResult *rollback(Fixture *f, const char *request_id, const char *change_id);
void expect(const VtApplyResult *r, int status, const char *reason);

/* The live value an action touches, as the test sees it: "channels",
 * "rings", "feature", or a file under the root. */
char *live(Fixture *f, const char *what);

#define ADD_TEST(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown_last)
