#!/bin/bash
# test_cni_kill.sh's body on a real etcd (t_datastore in tests/lib.sh):
# the same assertions, the IPAM going through etcd's txns instead of files.
export LEAFNET_TEST_DATASTORE=etcd
exec bash "$(dirname "$0")/test_cni_kill.sh" "$@"
