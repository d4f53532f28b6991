#!/bin/bash
# Fabric model "AS per compute server" with FRR (zebra + bgpd) as both
# ToRs; the spine stays BIRD.  The test is test_fabric_as_per_server.sh
# (its header says what is checked).
FABRIC_TOR=frr
. "$(dirname "$0")/test_fabric_as_per_server.sh"
