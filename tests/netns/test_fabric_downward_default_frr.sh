#!/bin/bash
# Fabric model "downward default" with FRR (zebra + bgpd) as both ToRs;
# the spine stays BIRD.  The test is test_fabric_downward_default.sh (its
# header says what is checked).
FABRIC_TOR=frr
. "$(dirname "$0")/test_fabric_downward_default.sh"
