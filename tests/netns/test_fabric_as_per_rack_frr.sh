#!/bin/bash
# Fabric model "AS per rack" with FRR (zebra + bgpd) as both ToRs; the
# spine stays BIRD.  The test is test_fabric_as_per_rack.sh (its header says
# what is checked).
FABRIC_TOR=frr
. "$(dirname "$0")/test_fabric_as_per_rack.sh"
