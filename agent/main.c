// SPDX-License-Identifier: GPL-2.0-only
/*
 * vouchd: loads the BPF programs, keeps their maps in step with the rules,
 * and ships every violation. main() is a list of phases; the run loop waits
 * on the ring buffer, a signalfd and a timer in one epoll set.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "cgroup.h"
#include <malloc.h>

#include "attest.h"
#include "config.h"
#include "containers.h"
#include "events.h"
#include "k8s.h"
#include "kernel.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "procscan.h"
#include "rules.h"
#include "shipper.h"
#include "sink.h"
#include "spool.h"
#include "units.h"
#include "status.h"

#define STALL_MS_MIN	5000	/* no loop pass for longer: unhealthy */

struct agent {
	const char *config_path;
	struct vouchd_config *cfg;
	char cgroup_mount[PATH_MAX];
	struct kernel *kernel;
	struct sink *sink;
	struct events *events;
	struct containers *containers;
	struct units *units;
	struct k8s *k8s;		/* NULL: no Kubernetes provider */
	struct spool *spool;
	struct shipper *shipper;
	struct metrics *metrics;
	size_t published_cgroups;	/* workloads /v1/status knows of */
	uint32_t next_gen;
	int epoll_fd;
	int signal_fd;
	int timer_fd;
	int hold_timer_fd;		/* containers waiting for a verdict */
	uint64_t expiry_reported;	/* serial whose expiry was reported */
	time_t swapped_at;		/* last policy swap, CLOCK_MONOTONIC s */
	int stop;
};

static const char usage[] =
"Usage: vouchd --config FILE [--check | --unload]\n"
"\n"
"The vouch node agent: checks every exec and outbound connect on this\n"
"machine in the kernel against the rules in the configuration, kills or\n"
"refuses what is not allowed (or reports it, in audit mode) and ships\n"
"every violation as an event.\n"
"\n"
"  -c, --config FILE   vouchd configuration (YAML), see docs/CONFIG.md\n"
"      --check         load the configuration and rules, report, and exit\n"
"      --unload        remove the pinned programs and maps, and exit: this\n"
"                      ends enforcement until vouchd starts again\n"
"  -h, --help          show this help\n"
"  -V, --version       show the version\n"
"\n"
"Signals: SIGHUP reloads the rules; SIGTERM or SIGINT stops (pinned\n"
"programs stay attached; without pinning they are detached).\n";

enum run_kind {
	RUN_AGENT = 0,
	RUN_CHECK = 1,
	RUN_UNLOAD = 2,
};

static int parse_args(int argc, char **argv, struct agent *a, int *check_only)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "unload", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config_path = optarg;
			break;
		case 'k':
			*check_only = RUN_CHECK;
			break;
		case 'u':
			*check_only = RUN_UNLOAD;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case 'V':
			printf("vouchd %s\n", VOUCH_VERSION);
			exit(0);
		default:
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	if (optind < argc || !a->config_path) {
		fputs(usage, stderr);
		return -EINVAL;
	}
	return 0;
}

static int load_config(struct agent *a)
{
	struct diags d = { 0 };

	a->cfg = config__load(a->config_path, &d);
	if (!a->cfg) {
		diags__print(&d, stderr);
		diags__free(&d);
		return -EINVAL;
	}
	diags__free(&d);
	log__setup(a->cfg->log_level, a->cfg->log_format, stderr);
	log__route_libbpf();
	return 0;
}

static time_t monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * The attested allow-list the rules name, verified against the trust
 * config and the last serial accepted; NULL with the first reason in why.
 */
static struct allowlist *load_bundle(const struct rules_attestation *att,
				     char *why, size_t len)
{
	struct attest_state st = { 0 };
	struct allowlist *al = NULL;
	struct diags d = { 0 };
	struct trust *t;

	t = trust__load(att->trust, &d);
	if (t && !attest__load_state(att->state_dir, t->scope, &st, &d))
		al = attest__verify_file(t, att->bundle, &st, time(NULL), &d);
	if (!al) {
		diags__first_error(&d, why, len);
		log_error("attest: bundle '%s' refused: %zu error(s), first: %s",
			  att->bundle, d.errors, why);
	} else {
		log_info("attest: bundle '%s' verified: serial %llu, scope %s, %zu images, key %s",
			 att->bundle, (unsigned long long)al->serial, al->scope,
			 al->n_images, al->n_key_ids ? al->key_ids[0] : "?");
	}
	diags__free(&d);
	trust__free(t);
	return al;
}

/* Reads and compiles the rules; NULL (with the reason logged) when any
 * part is wrong, so that nothing half-loaded reaches the kernel. */
static struct policy *build_policy(struct agent *a, char *why, size_t len)
{
	struct allowlist *bundle = NULL;
	struct cgroup_index *idx;
	struct vouch_rules *rules;
	struct policy *p;
	struct diags d = { 0 };

	rules = rules__load(a->cfg->rules_path, time(NULL), &d);
	for (size_t i = 0; i < d.n; i++)
		if (d.items[i].severity == DIAG_WARNING)
			log_warn("rules: %s:%d:%d: %s", d.items[i].file,
				 d.items[i].line, d.items[i].col, d.items[i].msg);
	if (!rules) {
		diags__first_error(&d, why, len);
		log_error("rules: failed to load '%s': %zu error(s), first: %s",
			  a->cfg->rules_path, d.errors, why);
		diags__free(&d);
		return NULL;
	}
	diags__free(&d);
	if (rules->attestation.declared) {
		bundle = load_bundle(&rules->attestation, why, len);
		if (!bundle) {
			rules__free(rules);
			return NULL;
		}
	}
	idx = cgroup__scan(a->cgroup_mount);
	p = policy__compile(rules, bundle, idx, a->next_gen);
	cgroup__free(idx);
	if (p && a->containers && containers__carry_over(a->containers, p)) {
		policy__free(p);
		p = NULL;
	}
	if (!p) {
		snprintf(why, len, "failed to compile: %s", strerror(errno));
		log_error("rules: %s", why);
	}
	return p;
}

/*
 * The "policy" object of /v1/status as compact text, or NULL while no
 * endpoint serves it: a policy of 10,000 images lists as many scopes.
 */
static char *policy_detail(const struct agent *a, const struct policy *p)
{
	struct cgroup_index *idx;
	json_t *detail;
	char *text;

	if (!a->cfg->metrics_listen)
		return NULL;
	idx = cgroup__scan(a->cgroup_mount);
	detail = status__policy(p, a->cfg->rules_path, idx);
	cgroup__free(idx);
	text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	json_decref(detail);
	return text;
}

/* Hands the policy in force to the metrics endpoint and systemd. */
static void publish_policy(struct agent *a, const struct policy *p)
{
	struct metrics_policy mp = {
		.gen = p->gen,
		.loaded = (int64_t)time(NULL),
		.entries = p->n_paths[POLICY_ALLOW] + p->n_paths[POLICY_DENY] +
			   p->n_paths[POLICY_EXCEPTION],
		.serial = p->bundle ? p->bundle->serial : 0,
		.expires = p->bundle ? p->bundle->expires : 0,
	};

	mp.detail = policy_detail(a, p);
	a->published_cgroups = p->n_cgroups;
	metrics__set_policy(a->metrics, &mp);
	sd_notifyf(0, "STATUS=policy generation %u: %zu scopes, %zu allow, %zu deny entries",
		   p->gen, p->n_scopes, p->n_paths[POLICY_ALLOW],
		   p->n_paths[POLICY_DENY]);
}

static int install_policy(struct agent *a)
{
	char why[512] = "", msg[768];
	struct policy *p = build_policy(a, why, sizeof(why));
	int err;

	if (!p)
		goto refused;
	err = kernel__apply(a->kernel, p);
	if (err) {
		snprintf(why, sizeof(why), "failed to write maps: %s",
			 strerror(-err));
		log_error("kernel: %s", why);
		policy__free(p);
		goto refused;
	}
	/* the serial is kept only once the list it names is in force */
	if (p->bundle && attest__commit_state(p->rules->attestation.state_dir,
					      p->bundle))
		log_error("attest: failed to record serial %llu in '%s'",
			  (unsigned long long)p->bundle->serial,
			  p->rules->attestation.state_dir);
	log_info("policy: generation %u in force: %zu scopes, %zu allow, %zu deny, %zu exception entries",
		 p->gen, p->n_scopes, p->n_paths[POLICY_ALLOW],
		 p->n_paths[POLICY_DENY], p->n_paths[POLICY_EXCEPTION]);
	if (p->bundle)
		snprintf(msg, sizeof(msg),
			 "policy generation %u loaded from %s, attested allow-list serial %llu (%zu images)",
			 p->gen, a->cfg->rules_path,
			 (unsigned long long)p->bundle->serial,
			 p->bundle->n_images);
	else
		snprintf(msg, sizeof(msg), "policy generation %u loaded from %s",
			 p->gen, a->cfg->rules_path);
	a->next_gen++;
	a->swapped_at = monotonic_s();
	publish_policy(a, p);
	/* the YAML tree and the policy replaced are gone: give the heap back */
	malloc_trim(0);
	if (a->events)
		events__emit_note(a->events, "policy", msg, p->gen);
	return 0;

refused:
	if (a->events) {
		const struct policy *cur = kernel__active(a->kernel);

		snprintf(msg, sizeof(msg), "reload refused, previous policy stays in force: %s",
			 why);
		events__emit_note(a->events, "policy", msg, cur ? cur->gen : 0);
	}
	return -EINVAL;
}

static int open_kernel(struct agent *a)
{
	struct procscan_summary survey;
	int err = cgroup__find_mount(a->cgroup_mount, sizeof(a->cgroup_mount));

	if (err) {
		log_error("cgroup: failed to find the cgroup v2 mount: %s",
			  strerror(-err));
		return err;
	}
	if (a->cfg->pin)
		a->kernel = kernel__open_pinned(a->cfg->ring_buffer_bytes,
						a->cfg->pin_dir,
						a->cfg->exec_hook);
	else
		a->kernel = kernel__open(a->cfg->ring_buffer_bytes,
					 a->cfg->exec_hook);
	if (!a->kernel)
		return -errno;
	/* our generations follow the one a previous vouchd left in force */
	a->next_gen = kernel__adopted_gen(a->kernel) + 1;
	err = kernel__sample_connects(a->kernel, a->cfg->sample_allowed_connects);
	if (err) {
		log_error("kernel: failed to set connect sampling: %s",
			  strerror(-err));
		return err;
	}
	err = procscan__survey("/proc", a->cgroup_mount, &survey);
	if (err < 0)
		log_warn("procscan: failed to read /proc: %s", strerror(-err));
	else
		log_info("procscan: %zu running processes in %zu cgroups (%zu gone while read)",
			 survey.processes, survey.cgroups, survey.unreadable);
	return 0;
}

/* The spool and the shipper thread, when a collector is configured. */
static int open_delivery(struct agent *a)
{
	struct shipper_opts opts = {
		.url = a->cfg->collector_url,
		.ca_file = a->cfg->collector_ca,
		.cert_file = a->cfg->collector_cert,
		.key_file = a->cfg->collector_key,
	};
	int err;

	a->spool = spool__open(a->cfg->spool_dir, a->cfg->spool_max_bytes);
	if (!a->spool) {
		err = -errno;
		log_error("spool: failed to open '%s': %s", a->cfg->spool_dir,
			  strerror(-err));
		return err;
	}
	a->shipper = shipper__new(&opts, a->spool);
	if (!a->shipper) {
		err = -errno;
		log_error("shipper: failed to set up '%s': %s",
			  a->cfg->collector_url, strerror(-err));
		return err;
	}
	events__ship_to(a->events, a->spool, a->shipper);
	metrics__set_spool(a->metrics, a->spool);
	err = shipper__start(a->shipper);
	if (err)
		log_error("shipper: failed to start: %s", strerror(-err));
	return err;
}

/* The Kubernetes provider, when the config has a kubernetes: section. */
static int open_k8s(struct agent *a)
{
	struct k8s_config *kc = &a->cfg->k8s;
	int err;

	if (!kc->enabled)
		return 0;
	err = k8s__config_fill(kc);
	if (err) {
		log_error("k8s: no API server: set kubernetes.api_url or run in a pod (%s)",
			  strerror(-err));
		return err;
	}
	a->k8s = k8s__start(kc);
	if (!a->k8s) {
		err = -errno;
		log_error("k8s: failed to start the provider: %s", strerror(-err));
		return err;
	}
	log_info("k8s: watching pods of node %s at %s", kc->node_name,
		 kc->api_url);
	return 0;
}

static int open_events(struct agent *a)
{
	struct events_identity id = {
		.agent_id = a->cfg->agent_id,
		.node = a->cfg->node_name,
		.cgroup_mount = a->cgroup_mount,
	};
	struct containers_config ccfg = {
		.cgroup_mount = a->cgroup_mount,
		.oci_locations = (const char *const *)a->cfg->oci_locations,
	};
	int err;

	a->sink = sink__open(a->cfg->events_output);
	if (!a->sink) {
		log_error("events: failed to open output '%s': %s",
			  a->cfg->events_output, strerror(errno));
		return -errno;
	}
	a->events = events__new(a->kernel, a->sink, &id);
	if (!a->events) {
		log_error("events: failed to open the ring buffer: %s",
			  strerror(errno));
		return -errno;
	}
	events__count_in(a->events, a->metrics);
	err = open_k8s(a);
	if (err)
		return err;
	ccfg.k8s = a->k8s;
	a->containers = containers__new(a->kernel, a->events, &ccfg);
	if (!a->containers)
		return -ENOMEM;
	events__set_containers(a->events, a->containers);
	a->units = units__new(a->cfg->deploy_dir ? a->cfg->deploy_dir :
			      CONFIG_DEPLOY_DIR_DEFAULT);
	if (!a->units)
		return -ENOMEM;
	events__set_units(a->events, a->units);
	return a->cfg->collector_url ? open_delivery(a) : 0;
}

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void stop_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
}

/*
 * Before any thread starts (shipper, metrics endpoint): threads inherit
 * the mask, so a stop signal always reaches the signalfd rather than the
 * default action in some other thread.
 */
static void block_signals(void)
{
	sigset_t mask;

	stop_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
}

/* The metrics endpoint's counters exist from the start; serving waits. */
static int open_metrics(struct agent *a)
{
	struct metrics_identity id = {
		.agent_id = a->cfg->agent_id,
		.node = a->cfg->node_name,
		.version = VOUCH_VERSION,
		.stall_ms = 5 * a->cfg->loss_report_ms > STALL_MS_MIN ?
			    5 * a->cfg->loss_report_ms : STALL_MS_MIN,
	};

	a->metrics = metrics__new(&id);
	if (!a->metrics) {
		log_error("metrics: failed to set up: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void publish_links(struct agent *a)
{
	struct kernel_link kl[METRICS_LINKS_MAX];
	struct metrics_link ml[METRICS_LINKS_MAX];
	size_t n = kernel__links(a->kernel, kl, METRICS_LINKS_MAX);

	for (size_t i = 0; i < n; i++) {
		ml[i].link_id = kl[i].link_id;
		ml[i].prog_id = kl[i].prog_id;
		snprintf(ml[i].name, sizeof(ml[i].name), "%s",
			 kl[i].name ? kl[i].name : "unknown");
	}
	metrics__set_links(a->metrics, ml, n);
}

/*
 * A failure to serve is logged, not fatal: enforcement matters more than
 * its observation, and the missing endpoint is what probes will notice.
 */
static void serve_metrics(struct agent *a)
{
	int err;

	publish_links(a);
	if (!a->cfg->metrics_listen)
		return;
	err = metrics__serve(a->metrics, a->cfg->metrics_listen);
	if (err)
		log_error("metrics: failed to listen on '%s': %s",
			  a->cfg->metrics_listen, strerror(-err));
	else
		log_info("metrics: serving /metrics, /healthz and /v1/status on %s",
			 a->cfg->metrics_listen);
}

/*
 * The loop's timer reports losses and pings systemd's watchdog: it ticks
 * every loss_report_ms, or twice per watchdog period when that is shorter,
 * so a slow loss report never gets a healthy vouchd killed.
 */
static long tick_interval_ms(const struct agent *a)
{
	long ms = a->cfg->loss_report_ms;
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec / 2000 < (uint64_t)ms)
		ms = usec / 2000 > 10 ? (long)(usec / 2000) : 10;
	return ms;
}

static int open_loop(struct agent *a)
{
	struct itimerspec every = { 0 };
	/*
	 * The ring buffer is drained, and hold timeouts checked, at this
	 * granularity: most records are submitted without a wakeup.
	 */
	struct itimerspec hold_tick = {
		.it_interval = { .tv_nsec = VOUCH_DRAIN_MS * 1000000L },
		.it_value = { .tv_nsec = VOUCH_DRAIN_MS * 1000000L },
	};
	sigset_t mask;
	long tick_ms;
	int err;

	stop_signals(&mask);
	a->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	a->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	a->hold_timer_fd = timerfd_create(CLOCK_MONOTONIC,
					  TFD_CLOEXEC | TFD_NONBLOCK);
	a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (a->signal_fd < 0 || a->timer_fd < 0 || a->hold_timer_fd < 0 ||
	    a->epoll_fd < 0)
		return -errno;
	if (timerfd_settime(a->hold_timer_fd, 0, &hold_tick, NULL))
		return -errno;
	tick_ms = tick_interval_ms(a);
	every.it_interval.tv_sec = tick_ms / 1000;
	every.it_interval.tv_nsec = (tick_ms % 1000) * 1000000L;
	every.it_value = every.it_interval;
	if (timerfd_settime(a->timer_fd, 0, &every, NULL))
		return -errno;
	err = epoll_add(a->epoll_fd, a->signal_fd);
	if (!err)
		err = epoll_add(a->epoll_fd, a->timer_fd);
	if (!err)
		err = epoll_add(a->epoll_fd, a->hold_timer_fd);
	if (!err)
		err = epoll_add(a->epoll_fd, events__fd(a->events));
	return err;
}

static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("vouchd: SIGHUP: reloading rules");
			sd_notify(0, "RELOADING=1");
			/* ship what the old policy decided before names change */
			events__consume(a->events);
			install_policy(a);
			sd_notify(0, "READY=1");
		} else {
			log_info("vouchd: signal %u: stopping", si.ssi_signo);
			a->stop = 1;
		}
	}
}

/* Once per bundle: it has expired, and what vouch does about it. */
static void report_expiry(struct agent *a)
{
	const struct policy *p = kernel__active(a->kernel);
	char msg[256];

	if (!policy__bundle_expired(p, time(NULL)) ||
	    a->expiry_reported == p->bundle->serial)
		return;
	a->expiry_reported = p->bundle->serial;
	snprintf(msg, sizeof(msg),
		 "attested allow-list serial %llu expired; it stays in force for running workloads, new containers are %s",
		 (unsigned long long)p->bundle->serial,
		 p->rules->attestation.expired_deny ? "denied" :
		 "judged by it still");
	log_warn("attest: %s", msg);
	events__emit_note(a->events, "policy", msg, p->gen);
}

/*
 * The generation before the last swap, once no decision can still be
 * using it; events it decided that arrive later are named less well.
 */
static void retire_previous(struct agent *a)
{
	if (!a->swapped_at || monotonic_s() - a->swapped_at < 2)
		return;
	kernel__retire_previous(a->kernel);
	a->swapped_at = 0;
	malloc_trim(0);
}

static void on_timer(struct agent *a)
{
	const struct policy *active;
	uint64_t ticks;

	while (read(a->timer_fd, &ticks, sizeof(ticks)) == sizeof(ticks))
		;
	events__report_losses(a->events);
	retire_previous(a);
	/* cgroups placed in a scope since: /v1/status lists them too */
	active = kernel__active(a->kernel);
	if (active && active->n_cgroups != a->published_cgroups)
		publish_policy(a, active);
	sd_notify(0, "WATCHDOG=1");
	report_expiry(a);
}

static void on_hold_timer(struct agent *a)
{
	uint64_t ticks;

	while (read(a->hold_timer_fd, &ticks, sizeof(ticks)) == sizeof(ticks))
		;
	/* records first: a held exec may be waiting in the ring buffer */
	events__consume(a->events);
	containers__tick(a->containers);
}

/*
 * Unpinned, the programs go first, so that nothing is held or decided
 * after the last drain; then every record is read and every container
 * still waiting gets its verdict.
 */
static void wind_down(struct agent *a)
{
	sd_notify(0, "STOPPING=1");
	kernel__detach(a->kernel);
	events__consume(a->events);
	containers__settle(a->containers);
	events__report_losses(a->events);
}

static int run_loop(struct agent *a)
{
	struct epoll_event ready[4];

	while (!a->stop) {
		int n = epoll_wait(a->epoll_fd, ready, 4, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			wind_down(a);
			return err;
		}
		metrics__heartbeat(a->metrics);
		for (int i = 0; i < n; i++) {
			if (ready[i].data.fd == a->signal_fd)
				on_signal(a);
			else if (ready[i].data.fd == a->timer_fd)
				on_timer(a);
			else if (ready[i].data.fd == a->hold_timer_fd)
				on_hold_timer(a);
			else
				events__consume(a->events);
		}
	}
	wind_down(a);
	return 0;
}

static void close_all(struct agent *a)
{
	/* first: its thread reads the spool and asks about the links */
	metrics__free(a->metrics);
	if (a->epoll_fd >= 0)
		close(a->epoll_fd);
	if (a->timer_fd >= 0)
		close(a->timer_fd);
	if (a->hold_timer_fd >= 0)
		close(a->hold_timer_fd);
	containers__free(a->containers);
	k8s__stop(a->k8s);
	units__free(a->units);
	if (a->signal_fd >= 0)
		close(a->signal_fd);
	events__free(a->events);
	/* what is not sent yet stays in the spool for the next start */
	shipper__stop(a->shipper);
	shipper__free(a->shipper);
	spool__close(a->spool);
	/* before the sink: a decision made until then is reported (run_loop
	 * detached already, unless pinned) */
	kernel__close(a->kernel);
	sink__close(a->sink);
	config__free(a->cfg);
}

static int check_only_run(struct agent *a)
{
	struct diags d = { 0 };
	struct vouch_rules *rules;
	char why[512];
	struct policy *p;

	/* every error, as vouchctl lint prints them, before the summary */
	rules = rules__load(a->cfg->rules_path, time(NULL), &d);
	diags__print(&d, stderr);
	diags__free(&d);
	if (!rules)
		return 1;
	rules__free(rules);
	if (cgroup__find_mount(a->cgroup_mount, sizeof(a->cgroup_mount)))
		strcpy(a->cgroup_mount, "/sys/fs/cgroup");
	p = build_policy(a, why, sizeof(why));
	if (!p)
		return 1;
	printf("%s: ok (%zu scopes, %zu cgroups matched)\n",
	       a->cfg->rules_path, p->n_scopes, p->n_cgroups);
	policy__free(p);
	return 0;
}

/* The explicit act that ends enforcement: the pins go, and with them
 * the programs and maps. */
static int unload_run(struct agent *a)
{
	int err = kernel__unload(a->cfg->pin_dir);

	if (err == -EBUSY) {
		log_error("pin: a vouchd runs on '%s'; stop it before unloading, or it pins its programs again",
			  a->cfg->pin_dir);
		return 1;
	}
	if (err) {
		log_error("pin: failed to unload '%s': %s", a->cfg->pin_dir,
			  strerror(-err));
		return 1;
	}
	log_info("pin: unloaded '%s': vouch enforces nothing until vouchd starts again",
		 a->cfg->pin_dir);
	return 0;
}

/*
 * A first start that failed before any policy was in force leaves pins
 * that judge nothing: they go, as they would never have been made. Pins
 * that held a policy stay, whatever failed.
 */
static int enforces_nothing(const struct agent *a)
{
	return a->cfg->pin && a->kernel && !kernel__active(a->kernel) &&
	       !kernel__adopted_gen(a->kernel);
}

int main(int argc, char **argv)
{
	struct agent a = { .next_gen = 1, .epoll_fd = -1, .signal_fd = -1,
			   .timer_fd = -1, .hold_timer_fd = -1 };
	char *unload_dir;
	int check_only = 0;
	int err;

	if (parse_args(argc, argv, &a, &check_only))
		return 2;
	if (load_config(&a))
		return 1;
	if (check_only) {
		err = check_only == RUN_CHECK ? check_only_run(&a) :
		      unload_run(&a);
		config__free(a.cfg);
		return err;
	}
	block_signals();
	err = open_metrics(&a);
	if (!err)
		err = open_kernel(&a);
	if (!err && install_policy(&a))
		err = -EINVAL;
	if (!err)
		err = open_events(&a);
	if (!err)
		err = open_loop(&a);
	if (!err) {
		serve_metrics(&a);
		log_info("vouchd %s: running, rules %s, events to %s",
			 VOUCH_VERSION, a.cfg->rules_path, a.cfg->events_output);
		sd_notify(0, "READY=1");
		events__emit_note(a.events, "agent", "vouchd started",
				  kernel__active(a.kernel)->gen);
		/* records first: a container held while no vouchd ran is a
		 * start to judge, not one found running */
		events__consume(a.events);
		containers__survey(a.containers);
		err = run_loop(&a);
		events__emit_note(a.events, "agent", "vouchd stopping", 0);
	}
	unload_dir = err && enforces_nothing(&a) ? strdup(a.cfg->pin_dir) : NULL;
	close_all(&a);
	/* after close_all: the pin directory is ours until then */
	if (unload_dir && kernel__unload(unload_dir) == 0)
		log_info("pin: removed '%s': nothing was enforced from it",
			 unload_dir);
	free(unload_dir);
	return err ? 1 : 0;
}
