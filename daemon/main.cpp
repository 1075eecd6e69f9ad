// SPDX-License-Identifier: Apache-2.0
#include <wfsync/app/cli.hpp>

int main(int argc, char** argv)
{
    return wfsync::app::main(argc, argv);
}
