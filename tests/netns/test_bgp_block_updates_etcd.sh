#!/bin/bash
# test_bgp_block_updates_etcd.sh — test_bgp_block_updates.sh on a real
# etcd that leafnetd reaches over a slow link (its header says why).
LEAFNET_TEST_STORE=etcd
. "$(dirname "$0")/test_bgp_block_updates.sh"
