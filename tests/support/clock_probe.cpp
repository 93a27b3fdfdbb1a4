// A target for clock_skew tests: writes the monotonic and boottime clocks it sees (seconds)
// to FILE five times a second. Extra arguments are ignored (tests use one as a marker that a
// cmdline selector can find).
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string file = argv[1], tmp = file + ".new";
  while (true) {
    timespec mono, boot;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_BOOTTIME, &boot);
    if (FILE* f = std::fopen(tmp.c_str(), "w")) {
      std::fprintf(f, "%lld %lld\n", static_cast<long long>(mono.tv_sec),
                   static_cast<long long>(boot.tv_sec));
      std::fclose(f);
      std::rename(tmp.c_str(), file.c_str());
    }
    usleep(200000);
  }
}
