/* LD_PRELOADed into the MPI tests by scripts/sanitize.sh: Open MPI dlcloses
 * its components at MPI_Finalize, after which LeakSanitizer cannot name the
 * frames of what they allocated ("unknown module") nor suppress them. Keeping
 * every module mapped lets scripts/lsan-mpi.supp name them. */
int dlclose(void *handle) {
  (void)handle;
  return 0;
}
