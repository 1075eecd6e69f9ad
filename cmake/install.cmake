# SPDX-License-Identifier: Apache-2.0
# What `cmake --install` puts where, and what the .deb holds (cmake/package.cmake).
#
#   bin/wfsync                                     stripped (WFSYNC_INSTALL_STRIP; see daemon/)
#   <etc>/wfsync/wfsync.example.yaml               <etc>: /etc for the prefix /usr, /etc/opt/P for
#                                                  /opt/P, else <prefix>/etc (GNUInstallDirs' rule)
#   <unitdir>/wfsync.service                       /lib/systemd/system for the prefix /usr (Debian 12's
#                                                  systemdsystemunitdir), else <prefix>/lib/systemd/system
#   share/man/man1/wfsync.1.gz, man5/wfsync.yaml.5.gz
#   share/bash-completion/completions/wfsync, share/zsh/vendor-completions/_wfsync
#   share/doc/wfsync/{README.md,LICENSE,copyright}
#   share/doc/wfsync/examples/wfsync-alerts.yml    Prometheus alerting rules to start from
#
# <etc> and <unitdir> are decided when installing, from the prefix installed to, so that
# `cmake --install build --prefix /usr` and cpack (which installs to /usr) put them right
# whatever prefix the build was configured with.

# Build trees configured before this file cached the old default, "lib/systemd/system" under any
# prefix (/usr/lib/systemd/system for /usr): forget it, once, so that the default below applies.
get_property(_wfsync_unit_doc CACHE WFSYNC_SYSTEMD_UNIT_DIR PROPERTY HELPSTRING)
if(_wfsync_unit_doc MATCHES "^Where `cmake --install` puts wfsync.service \\(relative: under the install prefix\\)$")
  unset(WFSYNC_SYSTEMD_UNIT_DIR CACHE)
endif()
set(WFSYNC_SYSTEMD_UNIT_DIR "" CACHE PATH
  "Where `cmake --install` puts wfsync.service; empty: /lib/systemd/system for the prefix /usr, else <prefix>/lib/systemd/system")

# GNUInstallDirs' CMAKE_INSTALL_SYSCONFDIR is relative ("etc") unless set by hand; an absolute
# one (-DCMAKE_INSTALL_SYSCONFDIR=/srv/etc) is used as it is.
install(CODE "set(_wfsync_sysconfdir [[${CMAKE_INSTALL_SYSCONFDIR}]])
set(_wfsync_unitdir [[${WFSYNC_SYSTEMD_UNIT_DIR}]])
set(_wfsync_source [[${PROJECT_SOURCE_DIR}]])")
install(CODE [[
  if(IS_ABSOLUTE "${_wfsync_sysconfdir}")
    set(_wfsync_etc "${_wfsync_sysconfdir}")
  elseif(CMAKE_INSTALL_PREFIX MATCHES "^/usr/?$")
    set(_wfsync_etc /etc)
  elseif(CMAKE_INSTALL_PREFIX MATCHES "^/opt/([^/]+)/?$")
    set(_wfsync_etc "/etc/opt/${CMAKE_MATCH_1}")
  else()
    set(_wfsync_etc "${CMAKE_INSTALL_PREFIX}/${_wfsync_sysconfdir}")
  endif()
  if(_wfsync_unitdir STREQUAL "")
    if(CMAKE_INSTALL_PREFIX MATCHES "^/usr/?$")
      set(_wfsync_unitdir /lib/systemd/system)
    else()
      set(_wfsync_unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
    endif()
  elseif(NOT IS_ABSOLUTE "${_wfsync_unitdir}")
    set(_wfsync_unitdir "${CMAKE_INSTALL_PREFIX}/${_wfsync_unitdir}")
  endif()
  file(INSTALL DESTINATION "${_wfsync_etc}/wfsync" TYPE FILE FILES "${_wfsync_source}/etc/wfsync.example.yaml")
  file(INSTALL DESTINATION "${_wfsync_unitdir}" TYPE FILE FILES "${_wfsync_source}/systemd/wfsync.service")
]])

# Man pages, compressed as Debian wants them (-n: no name or time inside, so the same bytes
# every build).
set(_wfsync_man_pages wfsync.1 wfsync.yaml.5)
set(_wfsync_man_gz "")
foreach(page IN LISTS _wfsync_man_pages)
  set(gz ${PROJECT_BINARY_DIR}/man/${page}.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/docs/man/${page} > ${gz}
    DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/${page}
    COMMENT "Compressing man page ${page}"
    VERBATIM)
  string(REGEX MATCH "[0-9]$" section ${page})
  install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  list(APPEND _wfsync_man_gz ${gz})
endforeach()
add_custom_target(wfsync_man ALL DEPENDS ${_wfsync_man_gz})

install(FILES etc/completion/wfsync.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME wfsync)
install(FILES etc/completion/_wfsync DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES README.md LICENSE packaging/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES etc/wfsync-alerts.yml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
