# SPDX-License-Identifier: Apache-2.0
# The Debian package: `cmake --build build && (cd build && cpack -G DEB)` writes
# wfsync_<version>_<arch>.deb from what `cmake --install` installs (cmake/install.cmake), under
# the prefix /usr whatever the build was configured with. Needs dpkg-shlibdeps (dpkg-dev).

set(CPACK_PACKAGE_NAME wfsync)
set(CPACK_PACKAGE_VENDOR "the wfsync authors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "replicates workflow definitions between SaaS tenants")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

set(WFSYNC_PACKAGE_MAINTAINER "wfsync maintainers <maintainers@wfsync.invalid>" CACHE STRING
  "The Maintainer: field of the .deb")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${WFSYNC_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # wfsync_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The long description; cpack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY above it and indents it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "wfsync copies workflow definitions between tenants of Zuora Workflow,
Kore.ai AI for Process and Huawei Cloud SecMaster on a schedule, keeps a
history of every version in a SQLite state and versioned backups in local
archives it can restore from; nothing is imported twice or lost across
crashes and network faults.

The systemd unit wfsync.service is installed but not enabled.")
# Depends: from the libraries the binary links, by dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
# conffiles: dpkg keeps an administrator's edits of these on upgrade and asks before replacing.
set(_wfsync_conffiles ${PROJECT_BINARY_DIR}/packaging/conffiles)
file(WRITE ${_wfsync_conffiles} "/etc/wfsync/wfsync.example.yaml\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${_wfsync_conffiles};${PROJECT_SOURCE_DIR}/packaging/postinst;${PROJECT_SOURCE_DIR}/packaging/prerm;${PROJECT_SOURCE_DIR}/packaging/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

include(CPack)
