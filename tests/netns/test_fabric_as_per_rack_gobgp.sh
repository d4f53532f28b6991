#!/bin/bash
# Fabric model "AS per rack" with GoBGP (gobgpd) as both ToRs; the
# spine stays BIRD.  The test is test_fabric_as_per_rack.sh (its header says
# what is checked, and how the data path follows GoBGP's RIB).
FABRIC_TOR=gobgp
. "$(dirname "$0")/test_fabric_as_per_rack.sh"
