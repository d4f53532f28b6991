/* nat.c — node-side outbound SNAT for networks with nat-outgoing.
 *
 * A non-routable pool's traffic to the outside is normally NATed at the
 * border; with nat-outgoing the node does it.  leafnetd owns one nftables
 * table, "inet leafnet", and nothing else in the ruleset:
 *
 *	set allpools4/6   every subnet of every leafnet network: traffic
 *	                  between workloads, on any node, is never NATed
 *	set natpools4/6   the subnets of the nat-outgoing networks
 *	chain postrouting (nat, srcnat priority)
 *	    oifname "lfn*"/"lfd*" return        to a local workload
 *	    ip saddr @natpools4 ip daddr != @allpools4 masquerade
 *	    (and the IPv6 twin)
 *
 * The table is rebuilt from the networks list once the daemon is up
 * (nat_start) and every time rib.c reloads it (every RIB_REFRESH_PERIOD,
 * on SIGHUP and when an unknown prefix shows up), and replaced as a
 * whole in one nftables transaction
 * ("table" + "delete table" + the new table: atomic, and idempotent when
 * it is absent).  The text is built first and compared with what was
 * applied last, so an unchanged list costs a string compare and never
 * reaches the kernel.  With no nat-outgoing network there is no table at
 * all; a clean shutdown (SIGTERM) removes it too.
 *
 * libnftables does the parsing and the netlink; its error buffer is
 * logged with the numbered ruleset it refers to.  Nothing here is fatal:
 * routing and BGP go on whether or not the kernel took the NAT rules, and
 * the next reload tries again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nftables/libnftables.h>

#include "leafnet.h"
#include "ld_local.h"
#include "log.h"
#include "network.h"

#define NAT_TABLE	"inet leafnet"
/* Host-side interfaces that lead to a local workload: leafnet's host veths
 * (LEAFNET_IFPREFIX) and, for a moment during a Docker Join, the workload
 * side before Docker moves it (dockerplugin's DP_SRC_PREFIX). */
#define NAT_DOCKER_PREFIX LEAFNET_DOCKER_IFPREFIX
/* An unchanged ruleset is checked for presence at most this often (one
 * netlink dump of one table); the RIB reloads the networks every 10 s, so
 * in practice each periodic reload checks. */
#define NAT_VERIFY_MS	5000

/* Removes the table if it exists, and nothing else: "table" adds it when
 * absent (a no-op otherwise), so the "delete" that follows cannot fail
 * with ENOENT. */
#define NAT_REMOVE	"table " NAT_TABLE "\ndelete table " NAT_TABLE "\n"

struct nat {
	char *applied;		/* text the kernel has from us; NULL: unknown */
	char *failed;		/* last text the kernel refused (log once) */
	size_t n_nat;		/* nat-outgoing networks in `applied` */
	uint64_t applies;	/* successful transactions */
	uint64_t verified;	/* ld_now_ms() of the last presence check */
};

/* ---- the ruleset text ------------------------------------------------- */

static void
nat_set(FILE *f, const char *name, int family, const struct network *nets, size_t n,
	bool nat_only)
{
	char buf[PREFIX_STRLEN];
	const char *sep = "";

	fprintf(f, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\tauto-merge\n",
		name, family == AF_INET ? "ipv4_addr" : "ipv6_addr");
	fprintf(f, "\t\telements = { ");
	for (size_t i = 0; i < n; i++) {
		if (nat_only && !nets[i].nat_outgoing)
			continue;
		for (size_t k = 0; k < nets[i].n_subnets && k < NETWORK_MAX_SUBNETS; k++) {
			struct prefix p = nets[i].subnets[k].cidr;

			if (p.addr.family != family)
				continue;
			prefix_mask(&p);
			fprintf(f, "%s%s", sep, prefix_fmt(&p, buf, sizeof(buf)));
			sep = ", ";
		}
	}
	fprintf(f, " }\n\t}\n");
}

/* Subnets of the given family in nat-outgoing networks. */
static size_t
nat_count(const struct network *nets, size_t n, int family)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++) {
		if (!nets[i].nat_outgoing)
			continue;
		for (size_t k = 0; k < nets[i].n_subnets && k < NETWORK_MAX_SUBNETS; k++)
			c += nets[i].subnets[k].cidr.addr.family == family;
	}
	return c;
}

char *
nat_ruleset(const struct network *nets, size_t n)
{
	size_t n4 = nat_count(nets, n, AF_INET), n6 = nat_count(nets, n, AF_INET6);
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	if (n4 == 0 && n6 == 0)
		return strdup("");
	f = open_memstream(&text, &size);
	if (f == NULL)
		return NULL;
	fprintf(f, "%s", NAT_REMOVE);
	fprintf(f, "table " NAT_TABLE " {\n"
		"\tcomment \"leafnetd: outbound SNAT of nat-outgoing networks; "
		"replaced as a whole, do not edit\"\n");
	/* a nat pool is in allpools too, so each family used has both sets */
	if (n4) {
		nat_set(f, "allpools4", AF_INET, nets, n, false);
		nat_set(f, "natpools4", AF_INET, nets, n, true);
	}
	if (n6) {
		nat_set(f, "allpools6", AF_INET6, nets, n, false);
		nat_set(f, "natpools6", AF_INET6, nets, n, true);
	}
	fprintf(f, "\tchain postrouting {\n"
		"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		"\t\toifname \"" LEAFNET_IFPREFIX "*\" return comment \"to a local workload\"\n"
		"\t\toifname \"" NAT_DOCKER_PREFIX "*\" return comment \"to a local workload (Docker)\"\n");
	if (n4)
		fprintf(f, "\t\tip saddr @natpools4 ip daddr != @allpools4 counter masquerade\n");
	if (n6)
		fprintf(f, "\t\tip6 saddr @natpools6 ip6 daddr != @allpools6 counter masquerade\n");
	fprintf(f, "\t}\n}\n");
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- applying it ------------------------------------------------------ */

/* Log text one numbered line at a time: libnftables' errors point at
 * "<cmdline>:LINE:COL". */
static void
nat_log_lines(const char *what, const char *text)
{
	const char *p = text;
	unsigned line = 1;

	log_warnx("outbound NAT: %s:", what);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		log_warnx("  %3u  %.*s", line++, len, p);
		p += len + (nl != NULL);
	}
}

/* Run one transaction.  0, or -EINVAL (the kernel or the parser said no:
 * its text is copied into *ret_err, malloc'd) or -ENOMEM. */
static int
nat_run(const char *text, char **ret_err)
{
	struct nft_ctx *ctx;
	const char *e;
	int r;

	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (ctx == NULL)
		return -ENOMEM;
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
		nft_ctx_free(ctx);
		return -ENOMEM;
	}
	r = nft_run_cmd_from_buffer(ctx, text);
	if (r != 0) {
		e = nft_ctx_get_error_buffer(ctx);
		*ret_err = strdup(e && *e ? e : "libnftables gave no reason");
		r = *ret_err != NULL ? -EINVAL : -ENOMEM;
		if (*ret_err != NULL) {		/* no trailing newline in logs */
			size_t len = strlen(*ret_err);

			while (len > 0 && ((*ret_err)[len - 1] == '\n' ||
					   (*ret_err)[len - 1] == ' '))
				(*ret_err)[--len] = '\0';
		}
	}
	nft_ctx_free(ctx);
	return r;
}

static size_t
nat_networks(const struct network *nets, size_t n, char *buf, size_t size)
{
	size_t c = 0, off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!nets[i].nat_outgoing)
			continue;
		if (off < size)
			off += snprintf(buf + off, size - off, "%s%s", c ? ", " : "", nets[i].name);
		c++;
	}
	return c;
}

/* Is our table still there?  Someone may have flushed the ruleset (a
 * firewall reload does "flush ruleset"): then the text still matches but
 * the kernel has nothing.  1 present, 0 gone, <0 could not tell. */
static int
nat_present(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int r;

	if (ctx == NULL)
		return -ENOMEM;
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
		nft_ctx_free(ctx);
		return -ENOMEM;
	}
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_TERSE);
	r = nft_run_cmd_from_buffer(ctx, "list table " NAT_TABLE "\n");
	if (r != 0) {
		const char *e = nft_ctx_get_error_buffer(ctx);

		r = e && strstr(e, "No such file or directory") ? 0 : -EIO;
	} else {
		r = 1;
	}
	nft_ctx_free(ctx);
	return r;
}

void
nat_sync(struct ld *d, const struct network *nets, size_t n)
{
	struct nat *nat = d->nat;
	char names[256], *text, *err = NULL;
	uint64_t now = ld_now_ms();
	bool first;
	size_t c;
	int r;

	if (nat == NULL)
		return;			/* not started (or startup failed) */
	text = nat_ruleset(nets, n);
	if (text == NULL) {
		log_warnx("outbound NAT: out of memory building the ruleset; "
			  "nftables left as it is");
		return;
	}
	if (nat->applied != NULL && strcmp(text, nat->applied) == 0) {
		bool gone = false;

		if (*text != '\0' && now >= nat->verified + NAT_VERIFY_MS) {
			nat->verified = now;
			gone = nat_present() == 0;
		}
		if (!gone) {
			free(text);
			return;
		}
		log_warnx("outbound NAT: table " NAT_TABLE " vanished (a \"flush "
			  "ruleset\"?); putting it back");
		free(nat->applied);
		nat->applied = NULL;
		nat->n_nat = 0;
	}
	first = nat->applied == NULL;
	c = nat_networks(nets, n, names, sizeof(names));
	/* at start, "nothing to NAT" still removes a table a crashed
	 * leafnetd may have left */
	r = nat_run(*text ? text : NAT_REMOVE, &err);
	if (r < 0) {
		bool again = nat->failed != NULL && strcmp(nat->failed, text) == 0;

		if (r == -ENOMEM)
			log_warnx("outbound NAT: libnftables: out of memory; retrying "
				  "on the next networks reload");
		else if (*text == '\0' && first)
			/* nothing of ours is known to be there (no nf_tables?) */
			log_debug("outbound NAT: removing a stale table " NAT_TABLE ": %s", err);
		else if (again)
			log_debug("outbound NAT: nftables refused table " NAT_TABLE
				  " again: %s", err);
		else {
			log_warnx("outbound NAT: nftables refused table " NAT_TABLE
				  " (%s), retrying on the next networks reload:",
				  c ? names : "removal");
			nat_log_lines("libnftables said", err);
			nat_log_lines("the ruleset was", *text ? text : NAT_REMOVE);
		}
		free(nat->failed);
		nat->failed = text;
		free(err);
		return;
	}
	nat->applies++;
	if (*text)
		log_info("outbound NAT: table " NAT_TABLE " %s: masquerading %s",
			 first || nat->n_nat == 0 ? "installed" : "updated", names);
	else if (!first)
		log_info("outbound NAT: no network has nat-outgoing; table " NAT_TABLE
			 " removed");
	log_debug("outbound NAT: ruleset applied (%zu networks with nat-outgoing)", c);
	free(nat->failed);
	nat->failed = NULL;
	free(nat->applied);
	nat->applied = text;
	nat->n_nat = c;
	nat->verified = now;
}

void
nat_start(struct ld *d)
{
	struct network *nets = NULL;
	size_t n = 0;
	int r;

	if (d->nat != NULL)
		return;
	d->nat = calloc(1, sizeof(*d->nat));
	if (d->nat == NULL) {
		log_warnx("outbound NAT: out of memory; nat-outgoing is not applied");
		return;
	}
	if (d->store == NULL)
		return;
	r = network_list(d->store, &nets, &n, NULL);
	if (r < 0) {
		log_warnx("outbound NAT: cannot read the networks from the store (%s); "
			  "retrying on the next networks reload", strerror(-r));
		return;
	}
	nat_sync(d, nets, n);
	free(nets);
}

void
nat_close(struct ld *d)
{
	struct nat *nat = d->nat;
	char *err = NULL;

	if (nat == NULL)
		return;
	/* ours when we put it there, or when we may have (a refused update
	 * changes nothing, but the earlier table is still in place) */
	if (nat->applied == NULL || *nat->applied != '\0') {
		if (nat_run(NAT_REMOVE, &err) < 0) {
			if (nat->applied != NULL)
				log_warnx("outbound NAT: removing table " NAT_TABLE
					  " failed: %s", err ? err : "out of memory");
		} else if (nat->applied != NULL) {
			log_info("outbound NAT: table " NAT_TABLE " removed");
		}
		free(err);
	}
	free(nat->applied);
	free(nat->failed);
	free(nat);
	d->nat = NULL;
}
